package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
)

// TestAdaptiveConcurrency runs against a model that serves 24 requests at
// full speed, queues beyond that and refuses beyond 48: the auto limit
// climbs to the knee, and few requests are refused. (Where it settles
// depends on latency, which a loaded test machine disturbs: BENCHMARKS.md
// measures it on a quiet one.)
func TestAdaptiveConcurrency(t *testing.T) {
	data, refs := textSet(t, 1500)
	srv := llmtest.New(t, llmtest.Config{References: refs, Capacity: 24, MaxInflight: 48,
		ModelLatency: llmtest.Latency{Mean: 20 * time.Millisecond}})
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
	if peak < 24 || peak > 48+16 {
		t.Errorf("limit peaked at %d (ended at %d); want it to reach the knee (24) and turn back near the refusals (48): %v", peak, last, trace)
	}
	c := s.Run.Calls["model"]
	t.Logf("model: %d requests, %d retries; limit trace %v", c.Requests, c.Retries, trace)
	if c.Retries > c.Requests/10 {
		t.Errorf("%d retries for %d requests: the limit did not stop the 429s", c.Retries, c.Requests)
	}
}
