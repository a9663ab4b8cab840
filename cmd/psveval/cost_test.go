package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
)

// TestUsageAsBilled: in both dialects, with blank and malformed judge
// replies that are asked again (and billed), summary.json's usage equals
// what the server reported in its 200 replies, token for token, cached
// prompt tokens included, and the cost is the bill computed from it.
func TestUsageAsBilled(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"deepseek", "openai", ""} {
		t.Run(cmpOr(dialect, "default"), func(t *testing.T) {
			t.Parallel()
			data, refs := textSet(t, 80)
			srv := llmtest.New(t, llmtest.Config{References: refs, Dialect: dialect,
				JudgeFaults: llmtest.Faults{Blank: 0.1, Malformed: 0.15}, ModelFaults: llmtest.Faults{Blank: 0.05}})
			run := judgedRun(t, data, srv, "--judge-price", "input=0.28,cached=0.028,output=0.42", "--model-price", "input=0.1,output=0.2", "--max-attempts", "8", "--max-error-rate", "0.2")
			var s stats.Summary
			readJSON(t, filepath.Join(run, "summary.json"), &s)
			for _, kind := range []string{"model", "judge"} {
				p, c, cached := srv.Reported(kind)
				got := s.Usage.Model
				if kind == "judge" {
					got = s.Usage.Judge
				}
				want := eval.Usage{Prompt: p, Completion: c, Cached: cached}
				if got != want {
					t.Errorf("%s usage %+v, the server reported %+v", kind, got, want)
				}
			}
			if _, _, cached := srv.Reported("judge"); cached == 0 {
				t.Fatal("the judge reported no cached tokens: the test shows nothing")
			}
			jp, jc, jh := srv.Reported("judge")
			bill := (float64(jp-jh)*0.28 + float64(jh)*0.028 + float64(jc)*0.42) / 1e6
			if s.Cost == nil || math.Abs(s.Cost.JudgeUSD-bill) > 1e-8 || math.Abs(s.Cost.TotalUSD-s.Cost.JudgeUSD-s.Cost.ModelUSD) > 1e-8 {
				t.Errorf("cost %+v, the judge's bill is %.9f", s.Cost, bill)
			}
			if s.Run.Repairs == 0 {
				t.Error("no repair was made: the faults did not happen")
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestMaxCost: a run with a budget stops starting requests once its
// spend would pass it, within the requests in flight, exits 3 naming
// the budget and what was spent; the same command again without the
// budget finishes, and no item is answered or judged twice.
func TestMaxCost(t *testing.T) {
	t.Parallel()
	const n = 200
	data, refs := textSet(t, n)
	srv := llmtest.New(t, llmtest.Config{References: refs})
	out := filepath.Join(t.TempDir(), "run")
	// About 700 judge tokens a judgment at $1,000 a million: $0.7 each.
	args := setArgs(data, srv.URL, out, "--judge-price", "input=1000,output=1000", "--judge-concurrency", "4", "--concurrency", "4")
	_, stderr, code := cli(t, t.Context(), append(args, "--max-cost", "20")...)
	flat := strings.Join(strings.Fields(stderr), " ")
	if code != 3 || !strings.Contains(flat, "--max-cost $20.0000 counts this invocation") {
		t.Fatalf("exit %d, want 3 and the budget named:\n%s", code, stderr)
	}
	first := srv.Requests("judge")
	per := 20.0 / float64(first)
	t.Logf("stopped after %d judgments (about $%.2f each)", first, per)
	// The overshoot is at most the 4 judgments in flight.
	if first < 20 || float64(first-4)*per > 20*1.0001 || first >= n {
		t.Errorf("%d judgments before the stop: want the spend within $20 and 4 in flight", first)
	}
	var spent float64
	if _, err := fmt.Sscanf(flat[strings.Index(flat, "which spent $")+len("which spent $"):], "%f", &spent); err != nil || spent < 20*0.9 || spent > 20+4*1.5 {
		t.Errorf("spent %.4f (%v): want about the budget, over it by at most the requests in flight", spent, err)
	}
	if _, stderr, code := cli(t, t.Context(), args...); code != 0 {
		t.Fatalf("resume without --max-cost: exit %d\n%s", code, stderr)
	}
	if m, j := srv.Requests("model"), srv.Requests("judge"); m != n || j != n {
		t.Errorf("%d model and %d judge requests over both invocations, want %d each: something was paid twice", m, j, n)
	}
}

// TestJudgeIdentity: a judge named by a moving alias is warned of in the
// run's report with the model it served, and compare and gate refuse two
// runs whose judges served different models unless
// --allow-judge-change.
func TestJudgeIdentity(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 60)
	runWith := func(served string) string {
		srv := llmtest.New(t, llmtest.Config{References: refs, JudgeModel: "deepseek-chat", JudgeServed: served, Models: []string{"lingshu-7b", "deepseek-chat"}})
		out := filepath.Join(t.TempDir(), "run")
		args := []string{"run", "--data", data, "--out", out, "--no-cache", "--progress", "none",
			"--model-url", srv.URL, "--model", "lingshu-7b", "--judge-url", srv.URL, "--judge-model", "deepseek-chat"}
		if _, stderr, code := cli(t, t.Context(), args...); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		return out
	}
	a, b := runWith("deepseek-v3.2"), runWith("deepseek-v4")
	stdout, _, code := cli(t, t.Context(), "report", a)
	flat := strings.Join(strings.Fields(stdout), " ")
	if code != 0 || !strings.Contains(flat, `judge "deepseek-chat" is a moving alias`) || !strings.Contains(flat, `served "deepseek-v3.2"`) {
		t.Errorf("report: exit %d, want the alias warning with the served model\n%s", code, stdout)
	}
	for _, args := range [][]string{{"compare", a, b}, {"gate", "--baseline", a, "--candidate", b}} {
		_, stderr, code := cli(t, t.Context(), args...)
		if code != 2 || !strings.Contains(stderr, "different served models") {
			t.Errorf("%s: exit %d, want 2 naming the served judges\n%s", args[0], code, stderr)
		}
		if _, stderr, code := cli(t, t.Context(), append(args, "--allow-judge-change")...); code == 2 {
			t.Errorf("%s --allow-judge-change: exit 2\n%s", args[0], stderr)
		}
	}
}

// TestBadPrices: malformed prices and a budget without one are usage
// errors that name the key or flag, before any request.
func TestBadPrices(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--judge-price", "input=0.28,outptu=0.42"}, `unknown key "outptu"`},
		{[]string{"--judge-price", "input=0.28,cached=-1,output=0.42"}, "cached=-1"},
		{[]string{"--model-price", "input=abc,output=1"}, "input=abc"},
		{[]string{"--judge-price", "input=1"}, "output="},
		{[]string{"--max-cost", "5"}, "--max-cost needs prices"},
	} {
		_, stderr, code := cli(t, t.Context(), runArgs(srv, filepath.Join(t.TempDir(), "run"), tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, want 2 naming %q\n%s", tc.args, code, tc.want, stderr)
		}
	}
	if srv.Requests("model")+srv.Requests("judge") != 0 {
		t.Error("a refused run sent requests")
	}
}
