package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/stats"
)

var benchRuns = sync.OnceValues(func() ([]string, error) {
	dir, err := os.MkdirTemp("", "psveval-bench-runs")
	if err != nil {
		return nil, err
	}
	var dirs []string
	for r := range 20 {
		rs := evaltest.RandomResults(1544, 0.55+float64(r)/200, uint64(r+1)) // 6 × 1,544 = 9,264 items
		for i := range rs {
			// Realistic line sizes: PSV2026 questions, answers and judge
			// explanations run to a few hundred characters.
			rs[i].Question = strings.Repeat("What abnormality is visible in this image? ", 3)
			rs[i].Answer = strings.Repeat("The image shows a hypodense lesion in the right lobe. ", 4)
			for c := range rs[i].Criteria {
				rs[i].Criteria[c].Explanation = "The answer identifies the finding the reference names, in other words."
			}
		}
		d := filepath.Join(dir, fmt.Sprintf("run%02d", r))
		if err := evaltest.WriteRun(d, fmt.Sprintf("ckpt-%02d", r), rs); err != nil {
			return nil, err
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
})

// BenchmarkReportAndCompare20Runs times what a λ sweep asks for: a report
// with intervals over 20 runs of 9,264 items, and the comparison of each of
// 19 checkpoints with the first, all from results.jsonl.
func BenchmarkReportAndCompare20Runs(b *testing.B) {
	dirs, err := benchRuns()
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, d := range dirs {
		st, _ := os.Stat(filepath.Join(d, "results.jsonl"))
		size += st.Size()
	}
	b.Run("report-ci", func(b *testing.B) {
		for b.Loop() {
			if err := run(b.Context(), append([]string{"report", "--ci"}, dirs...), io.Discard, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(20*9264)/b.Elapsed().Seconds()*float64(b.N), "items/s")
		b.ReportMetric(float64(size)/1e6, "results-MB")
	})
	b.Run("compare-19", func(b *testing.B) {
		for b.Loop() {
			for _, d := range dirs[1:] {
				if err := run(b.Context(), []string{"compare", dirs[0], d}, io.Discard, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("compare-1", func(b *testing.B) {
		for b.Loop() {
			if err := run(b.Context(), []string{"compare", dirs[0], dirs[1]}, io.Discard, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAggregate times the aggregator with intervals on 9,264 results.
func BenchmarkAggregate(b *testing.B) {
	rs := evaltest.RandomResults(1544, 0.6, 1)
	for b.Loop() {
		a := stats.NewAggregator(stats.AggregateOptions{})
		for _, r := range rs {
			a.Add(r)
		}
		if _, err := a.Summary(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rs))*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}
