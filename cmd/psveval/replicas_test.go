package main

import (
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
)

// TestReplicas serves the model twice; one replica dies mid-run and comes
// back: the run finishes with every item scored once, and the summary
// counts each replica's requests and failures.
func TestReplicas(t *testing.T) {
	t.Parallel()
	cfg := llmtest.Config{References: fixtureRefs(), ModelLatency: llmtest.Latency{Mean: 20 * time.Millisecond}}
	a := llmtest.New(t, cfg)
	h := llmtest.NewHandler(cfg)
	b, err := llmtest.StartAt("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(b.URL)
	go func() {
		for b.Requests("model") < 8 {
			time.Sleep(5 * time.Millisecond)
		}
		b.Close()
		time.Sleep(400 * time.Millisecond)
		if b2, err := llmtest.StartAt(u.Host, h); err == nil {
			t.Cleanup(func() { b2.Close() })
		}
	}()
	out := filepath.Join(t.TempDir(), "run")
	args := runArgs(a, out, "--model-url", b.URL, "--concurrency", "4")
	_, stderr, code := cli(t, t.Context(), args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var s stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	if s.NScored != 60 || len(readLines(t, filepath.Join(out, "answers.jsonl"))) != 60 {
		t.Errorf("%d scored, %d answers journaled; want 60 and 60", s.NScored, len(readLines(t, filepath.Join(out, "answers.jsonl"))))
	}
	if len(s.Run.Replicas) != 2 || s.Run.Replicas[0].Requests == 0 || s.Run.Replicas[1].Requests == 0 {
		t.Errorf("replicas %+v: want both to have taken requests", s.Run.Replicas)
	}
	t.Logf("replicas: %+v", s.Run.Replicas)
}

// TestReplicasServingOtherModels: replicas that answer as different
// models stop the run with exit 2 naming both.
func TestReplicasServingOtherModels(t *testing.T) {
	t.Parallel()
	a := llmtest.New(t, llmtest.Config{References: fixtureRefs(), ServedModel: "lingshu-7b"})
	b := llmtest.New(t, llmtest.Config{References: fixtureRefs(), ServedModel: "lingshu-7b-sft"})
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), runArgs(a, out, "--model-url", b.URL, "--concurrency", "4")...)
	if code != 2 || !strings.Contains(stderr, `"lingshu-7b-sft"`) || !strings.Contains(stderr, "replicas serve different models") {
		t.Errorf("exit %d, want 2 naming both models\n%s", code, stderr)
	}
}

// TestDeadReplicaAtStart: among healthy replicas, one that does not
// answer at start is a warning naming it, and the run goes on with the
// others; only all replicas dead is fatal.
func TestDeadReplicaAtStart(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/v1"
	ln.Close()
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--model-url", dead, "--limit", "12")...)
	if code != 0 || !strings.Contains(stderr, "warning: replica "+dead) {
		t.Errorf("a dead replica beside a live one: exit %d, want 0 with a warning naming it\n%s", code, stderr)
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead2 := "http://" + ln2.Addr().String() + "/v1"
	ln2.Close()
	args := runArgs(srv, filepath.Join(t.TempDir(), "run2"), "--model-url", dead, "--limit", "4")
	args[slices.Index(args, srv.URL)] = dead2 // both model replicas dead
	if _, stderr, code := cli(t, t.Context(), args...); code != 3 || !strings.Contains(stderr, "none of its 2 replicas answers") {
		t.Errorf("every replica dead: exit %d, want 3\n%s", code, stderr)
	}
}
