package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
)

// textSet writes n PSV2026-shaped text-only items with unique questions and
// returns its path and question → reference map.
func textSet(t *testing.T, n int) (string, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("set-%d.jsonl", n))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := evaltest.WriteJSONL(w, evaltest.Options{N: n, Seed: 3, UniqueQuestions: true}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	refs, err := llmtest.References(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, refs
}

func setArgs(data, url, out string, extra ...string) []string {
	return append([]string{
		"run", "--data", data, "--out", out, "--no-cache", "--progress", "none",
		"--model-url", url, "--model", "lingshu-7b", "--judge-url", url, "--judge-model", llmtest.DefaultJudge,
	}, extra...)
}

// TestFaultMatrix injects every fault at once, at the rates of the issue:
// the run completes, every record equals the fault-free run's, the
// retries are counted, and nothing is lost or duplicated.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	const n = 300
	data, refs := textSet(t, n)
	dir := t.TempDir()
	clean := llmtest.New(t, llmtest.Config{References: refs})
	ref := filepath.Join(dir, "clean")
	if _, stderr, code := cli(t, t.Context(), setArgs(data, clean.URL, ref)...); code != 0 {
		t.Fatalf("fault-free run: exit %d\n%s", code, stderr)
	}
	faults := llmtest.Faults{RateLimit: 0.10, Unavailable: 0.05, Reset: 0.02, Slow: 0.01, RetryAfter: "1", SlowDelay: 2 * time.Second}
	judgeFaults := faults
	judgeFaults.Malformed, judgeFaults.Blank = 0.03, 0.01
	faulty := llmtest.New(t, llmtest.Config{References: refs, Seed: 0, ModelFaults: faults, JudgeFaults: judgeFaults,
		ModelLatency: llmtest.Latency{Mean: 5 * time.Millisecond, Dist: "exp"}, JudgeLatency: llmtest.Latency{Mean: 8 * time.Millisecond, Dist: "exp"}})
	out := filepath.Join(dir, "faulty")
	_, stderr, code := cli(t, t.Context(), setArgs(data, faulty.URL, out, "--call-timeout", "1s", "--max-attempts", "10", "--judge-repairs", "4")...)
	if code != 0 {
		t.Fatalf("run under faults: exit %d\n%s", code, stderr)
	}
	// What may differ under faults: times, and the judge tokens that
	// repairs of malformed replies cost.
	got := stripTimes(t, readLines(t, filepath.Join(out, "results.jsonl")), true)
	want := stripTimes(t, readLines(t, filepath.Join(ref, "results.jsonl")), true)
	if len(got) != n || !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("first differing record %d:\n got %s\nwant %s", i, got[i], want[i])
				break
			}
		}
		t.Fatalf("%d records under faults differ from the fault-free run's", n)
	}
	var sum stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	if sum.Run == nil || sum.Run.Retries["model"] == 0 || sum.Run.Retries["judge"] == 0 || sum.Run.Repairs == 0 || sum.NScored != n {
		t.Errorf("the summary does not count the retries: %+v %+v", sum.Run, sum)
	}
	// The counts are what the server received: every HTTP request is a
	// request or one of its retries.
	for _, kind := range []string{"model", "judge"} {
		if c := sum.Run.Calls[kind]; c.Requests+c.Retries != faulty.Requests(kind) {
			t.Errorf("%s: %d requests + %d retries counted, the server got %d", kind, c.Requests, c.Retries, faulty.Requests(kind))
		}
	}
	if c := sum.Run.Calls["judge"]; c.Repairs != sum.Run.Repairs || c.Requests != n+c.Repairs+c.LengthRetries {
		t.Errorf("judge calls %+v: want one request per item plus its repairs and re-asks", c)
	}
	// Nothing lost or duplicated: one journal line per item, keys unique.
	for _, j := range []string{"answers.jsonl", "judgments.jsonl"} {
		keys := map[string]bool{}
		for _, l := range readLines(t, filepath.Join(out, j)) {
			var r struct{ Key, Error string }
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%s: corrupt line %q", j, l)
			}
			if keys[r.Key] || r.Error != "" {
				t.Errorf("%s: key %s recorded twice or failed (%q)", j, r.Key[:12], r.Error)
			}
			keys[r.Key] = true
		}
		if len(keys) != n {
			t.Errorf("%s has %d keys, want %d", j, len(keys), n)
		}
	}
	t.Logf("faults: %d model and %d judge requests for %d items; retries %v, repairs %d",
		faulty.Requests("model"), faulty.Requests("judge"), n, sum.Run.Retries, sum.Run.Repairs)
}

// TestOversizedResponse sends a 100 MB answer for one item: it is cut off
// at the limit and recorded as that item's error; the run goes on.
func TestOversizedResponse(t *testing.T) {
	t.Parallel()
	var victim string
	for q := range fixtureRefs() {
		victim = q
		break
	}
	srv := fakeServer(t, llmtest.Config{Hook: func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest, kind string) bool {
		if kind != "model" || !strings.HasPrefix(messageText(req), victim) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"choices":[{"message":{"content":"`))
		chunk := []byte(strings.Repeat("a", 1<<20))
		for range 100 {
			if _, err := w.Write(chunk); err != nil {
				return true // the client hung up at its limit
			}
		}
		w.Write([]byte(`"}}]}`))
		return true
	}})
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--max-error-rate", "0.05")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	found := false
	for _, l := range readLines(t, filepath.Join(out, "results.jsonl")) {
		var r eval.Result
		json.Unmarshal([]byte(l), &r)
		if r.Question == victim {
			found = true
			if r.Status != eval.StatusError || r.ErrorKind != "oversized" || !strings.Contains(r.Error, "exceeds the 8388608-byte limit") {
				t.Errorf("oversized answer recorded as %+v", r)
			}
		} else if r.Status != eval.StatusOK {
			t.Errorf("item %s: status %s", r.ID, r.Status)
		}
	}
	if !found {
		t.Fatal("the victim item is missing")
	}
}

func messageText(req *openai.ChatCompletionRequest) string {
	m := req.Messages[len(req.Messages)-1]
	if len(m.MultiContent) == 0 {
		return m.Content
	}
	return m.MultiContent[len(m.MultiContent)-1].Text
}
