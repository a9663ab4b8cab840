package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
)

// TestOneWriterPerRunDirectory: a second psveval run on a directory that
// a first one is writing is refused at once (exit 2, naming the holder)
// and asks nothing; the first completes, and its results equal a clean
// run's.
func TestOneWriterPerRunDirectory(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{ModelLatency: llmtest.Latency{Mean: 20 * time.Millisecond}, JudgeLatency: llmtest.Latency{Mean: 20 * time.Millisecond}})
	dir := t.TempDir()
	out := filepath.Join(dir, "same")
	var wg sync.WaitGroup
	var firstErr string
	var firstCode int
	wg.Go(func() {
		_, firstErr, firstCode = cli(t, t.Context(), runArgs(srv, out, "--concurrency", "2", "--judge-concurrency", "2")...)
	})
	// Wait until the first holds the directory: its lock file names it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(out, rundir.LockFile))
		if strings.Contains(string(b), "pid") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run never took its lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	other := fakeServer(t, llmtest.Config{}) // the second writer's endpoints: it must ask them nothing
	start := time.Now()
	_, stderr, code := cli(t, t.Context(), runArgs(other, out)...)
	took := time.Since(start)
	if code != 2 || !strings.Contains(stderr, "is being written by") || !strings.Contains(stderr, "pid") {
		t.Errorf("second writer: exit %d, want 2 naming the holder\n%s", code, stderr)
	}
	wg.Wait()
	if firstCode != 0 {
		t.Fatalf("first run: exit %d\n%s", firstCode, firstErr)
	}
	// It is refused before it reads a record or asks anything (how long
	// that takes is logged, not asserted: tests hold no timings).
	t.Logf("the second writer was refused after %v", took)
	if asked := other.Requests("model") + other.Requests("judge"); asked != 0 {
		t.Errorf("the refused run made %d requests, want none", asked)
	}
	clean := filepath.Join(dir, "clean")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, clean)...); code != 0 {
		t.Fatalf("clean run: exit %d\n%s", code, stderr)
	}
	got, want := stripTimes(t, readLines(t, filepath.Join(out, rundir.ResultsFile))), stripTimes(t, readLines(t, filepath.Join(clean, rundir.ResultsFile)))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Error("the first run's results differ from a clean run's")
	}
	// The lock is let go: a resume of the finished run may write again.
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, out)...); code != 0 {
		t.Errorf("resume after the first finished: exit %d\n%s", code, stderr)
	}
}
