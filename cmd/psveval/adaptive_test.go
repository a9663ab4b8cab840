package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
)

// TestAdaptiveConcurrency runs against a model that serves 24 requests at
// full speed, queues beyond that and refuses beyond 48: every item is
// answered, the auto limit climbs from its start and is traced, and the
// requests refused stay a small share. Where the limit settles depends on
// how fast this machine runs the client (under the race detector it can
// overshoot before the refusals show), so it is logged, not asserted.
func TestAdaptiveConcurrency(t *testing.T) {
	data, refs := textSet(t, 1200)
	srv := llmtest.New(t, llmtest.Config{References: refs, Capacity: 24, MaxInflight: 48,
		ModelLatency: llmtest.Latency{Mean: 50 * time.Millisecond}})
	out := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), setArgs(data, srv.URL, out, "--concurrency", "auto", "--judge-concurrency", "64")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var s stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	trace := s.Run.LimitTrace["model"]
	if len(trace) < 3 {
		t.Fatalf("trace %v: want the limit over the run", trace)
	}
	peak, last := 0, trace[len(trace)-1].Limit
	for _, p := range trace {
		peak = max(peak, p.Limit)
	}
	if peak <= 16 {
		t.Errorf("the limit never rose from its start of 16 (ended at %d): %v", last, trace)
	}
	if s.NScored != 1200 {
		t.Errorf("%d of 1200 scored", s.NScored)
	}
	c := s.Run.Calls["model"]
	t.Logf("model: %d requests, %d retries; limit trace %v", c.Requests, c.Retries, trace)
	if c.Retries > c.Requests/5 {
		t.Errorf("%d retries for %d requests: the limit did not stop the 429s", c.Retries, c.Requests)
	}
}
