package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
)

// TestNoVisionIsFatal: a model server that refuses images as llama-server
// without --mmproj does (HTTP 500 "image input is not supported … mmproj")
// stops the run at its first image item with one message naming the
// cause, instead of retrying every image item.
func TestNoVisionIsFatal(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{NoVision: true})
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--concurrency", "1")...)
	if code != 3 || !strings.Contains(stderr, "--mmproj") || strings.Count(stderr, "image input is not supported") != 1 {
		t.Errorf("exit %d, want 3 with one message naming --mmproj\n%s", code, stderr)
	}
	if n := srv.Requests("model"); n > 2 {
		t.Errorf("%d model requests: an endpoint that takes no images was asked again", n)
	}
}

// TestTimeoutsCountedApart: attempts cut off at --call-timeout are
// counted apart from other retries in summary.json and named, with what
// they suggest, in the run's last lines.
func TestTimeoutsCountedApart(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{ModelFaults: llmtest.Faults{Slow: 0.3, SlowDelay: time.Second}})
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--call-timeout", "300ms", "--max-attempts", "10", "--limit", "20")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var s stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	n := s.Run.Timeouts["model"]
	if n == 0 || n > s.Run.Retries["model"] {
		t.Errorf("timeouts %v, retries %v: want the model's timeouts counted, among its retries", s.Run.Timeouts, s.Run.Retries)
	}
	if flat := strings.Join(strings.Fields(stderr), " "); !strings.Contains(flat, "timed out at --call-timeout") || !strings.Contains(flat, "--concurrency auto") {
		t.Errorf("no note on the timeouts:\n%s", stderr)
	}
}
