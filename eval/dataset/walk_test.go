package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestParallelWalkIsTheSequentialWalk walks JSONL files of several
// batches, with blank lines, a byte-order mark and a bad line, both ways:
// the same records in the same order, then the same error; and a walk
// stopped early stops.
func TestParallelWalkIsTheSequentialWalk(t *testing.T) {
	t.Parallel()
	for _, bad := range []int{0, 7, 3*batchLines + 5} {
		var b strings.Builder
		b.WriteString("\xef\xbb\xbf")
		for i := range 4*batchLines + 11 {
			switch {
			case i == bad && bad > 0:
				b.WriteString(`{"id": "broken",` + "\n")
			case i%97 == 0:
				b.WriteString("  \n")
			default:
				fmt.Fprintf(&b, `{"id":"q%d","question":"what is \u00e9 %d?","rubric":[{"dim":"a","score":1,"description":"x"}]}`+"\n", i, i)
			}
		}
		path := filepath.Join(t.TempDir(), "d.jsonl")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		s := &jsonlSource{path: path}
		walk := func(parallel bool) (recs []posRecord, errMsg string) {
			for pr, err := range s.records(parallel) {
				if err != nil {
					return recs, err.Error()
				}
				recs = append(recs, pr)
			}
			return recs, ""
		}
		seq, seqErr := walk(false)
		par, parErr := walk(true)
		if !reflect.DeepEqual(seq, par) || seqErr != parErr {
			t.Errorf("bad line %d: sequential walk gave %d records and %q, parallel %d and %q", bad, len(seq), seqErr, len(par), parErr)
		}
		if (bad > 0) != (seqErr != "") || bad > 0 && !strings.Contains(seqErr, fmt.Sprintf("line %d", bad+1)) {
			t.Errorf("bad line %d: error %q", bad, seqErr)
		}
	}
}

// TestParallelWalkStoppedEarly stops a parallel walk mid-file: its reader
// and decoders are gone when the loop is left. (Not parallel: no other
// test's goroutines come and go meanwhile.)
func TestParallelWalkStoppedEarly(t *testing.T) {
	var b strings.Builder
	for i := range 10 * batchLines {
		fmt.Fprintf(&b, `{"id":"q%d"}`+"\n", i)
	}
	path := filepath.Join(t.TempDir(), "d.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	walk := func(stopAt int) {
		n := 0
		for range (&jsonlSource{path: path}).records(true) {
			if n++; n == stopAt {
				break
			}
		}
	}
	// A first walk starts what the runtime starts once per process (the
	// goroutine that runs files' cleanups), so that it is counted before.
	walk(1)
	before := runtime.NumGoroutine()
	walk(batchLines + 3)
	after := runtime.NumGoroutine()
	for i := 0; after > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond) // a runtime goroutine may still be ending; a leaked walk never ends
		after = runtime.NumGoroutine()
	}
	if after > before {
		t.Errorf("%d goroutines before the walk, %d after it stopped", before, after)
	}
}
