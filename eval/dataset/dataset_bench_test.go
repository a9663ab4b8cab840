package dataset_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/evaltest"
)

var benchFiles sync.Map // rows -> path

// benchParquet writes (once per process) a PSV2026-shaped parquet file of n
// rows with 128×128 images, snappy-compressed in row groups of 100, as
// Hugging Face writes image datasets.
func benchParquet(b *testing.B, n int) string {
	if p, ok := benchFiles.Load(n); ok {
		return p.(string)
	}
	// The file is kept in the temp folder and reused by later runs, so that
	// a benchmark process measures reading, not generating.
	path := filepath.Join(os.TempDir(), fmt.Sprintf("psveval-bench-psv-%d-128px.parquet", n))
	if _, err := os.Stat(path); err == nil {
		benchFiles.Store(n, path)
		return path
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := evaltest.WriteParquet(w, evaltest.Options{N: n, Seed: 9, ImageSide: 128, RowGroupRows: 100, Compression: "snappy"}); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	benchFiles.Store(n, path)
	return path
}

// BenchmarkReadParquet walks a 9,264-row file (PSV2026's test size) and one
// four times larger. It reports items/s, MB/s of file read, and the peak
// RSS of the process during the walks: flat across sizes means memory is
// bounded by the batch, not the file.
func BenchmarkReadParquet(b *testing.B) {
	for _, n := range []int{9264, 4 * 9264} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			path := benchParquet(b, n)
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			debug.FreeOSMemory() // drop what generating the file left behind
			resetPeakRSS()
			items := 0
			for b.Loop() {
				ds, err := dataset.Open(path, dataset.Options{})
				if err != nil {
					b.Fatal(err)
				}
				for _, err := range ds.All() {
					if err != nil {
						b.Fatal(err)
					}
					items++
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(items)/secs, "items/s")
			b.ReportMetric(float64(st.Size())*float64(b.N)/secs/1e6, "MB/s")
			b.ReportMetric(float64(st.Size())/1e6, "file-MB")
			if rss := peakRSS(); rss > 0 {
				b.ReportMetric(rss/1e6, "peak-RSS-MB")
			}
		})
	}
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (Linux: writing 5 to clear_refs), so peakRSS measures from here.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns VmHWM in bytes, or 0 where /proc is unavailable.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}
