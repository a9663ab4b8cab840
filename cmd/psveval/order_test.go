package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/judges"
	"github.com/psveval/psveval/reports"
)

// TestCriterionOrderShuffle: a judge that favours the criterion it reads
// first, run with the rubric's order and judged again with a shuffled
// one. The fixed run leans on the first criterion; the shuffled one
// spreads the bias, so agree shows the flips concentrated on that
// criterion and compare shows the Avg shift with its paired interval.
// Each judgment records the order shown, the manifest the setting, and
// the cache never serves a fixed judgment to a shuffled judge.
func TestCriterionOrderShuffle(t *testing.T) {
	t.Parallel()
	const n = 400
	data, refs := textSet(t, n)
	srv := llmtest.New(t, llmtest.Config{References: refs, FirstBias: 0.5})
	cache := t.TempDir()
	fixed := judgedRun(t, data, srv, "--no-cache=false", "--cache", cache)
	shuffled := filepath.Join(t.TempDir(), "shuffled")
	_, stderr, code := cli(t, t.Context(), "judge", fixed, "--out", shuffled, "--cache", cache, "--progress", "none",
		"--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge, "--criterion-order", "shuffle", "--seed", "5")
	if code != 0 {
		t.Fatalf("judge --criterion-order shuffle: exit %d\n%s", code, stderr)
	}
	m, err := rundir.Open(shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if j := m.Judges[0]; j.CriterionOrder != judges.OrderShuffle || j.CriterionOrderSeed != 5 {
		t.Errorf("manifest judge: order %q seed %d, want shuffle and 5", j.CriterionOrder, j.CriterionOrderSeed)
	}
	var sum stats.Summary
	readJSON(t, filepath.Join(shuffled, "summary.json"), &sum)
	if sum.Run.Cached != 0 {
		t.Errorf("%d judgments came from the fixed run's cache", sum.Run.Cached)
	}
	rubricOrder := map[string][]string{}
	for _, r := range readResults(t, fixed) {
		for _, c := range r.Criteria {
			rubricOrder[r.ID] = append(rubricOrder[r.ID], c.Dim)
		}
	}
	firsts := map[string]int{}
	for _, l := range readLines(t, filepath.Join(shuffled, "judgments.jsonl")) {
		var rec struct {
			Item  string
			Order []string
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.Order) != 5 {
			t.Fatalf("%s: order %v, want the 5 criteria as shown", rec.Item, rec.Order)
		}
		var want []string
		for _, i := range judges.CriterionOrder(5, rec.Item, 5) {
			want = append(want, rubricOrder[rec.Item][i])
		}
		if fmt.Sprint(rec.Order) != fmt.Sprint(want) {
			t.Fatalf("%s: shown in order %v, want %v (seed 5)", rec.Item, rec.Order, want)
		}
		firsts[rec.Order[0]]++
	}
	if len(firsts) != 5 {
		t.Errorf("criteria shown first: %v, want every one of the 5", firsts)
	}
	// agree: the flips fall on the criterion the fixed run showed first.
	stdout, stderr, code := cli(t, t.Context(), "agree", "--format", "json", fixed, shuffled)
	if code != 0 {
		t.Fatalf("agree: exit %d\n%s", code, stderr)
	}
	var ar reports.AgreementReport
	if err := json.Unmarshal([]byte(stdout), &ar); err != nil {
		t.Fatal(err)
	}
	var first stats.RaterAgreement
	worstOther := 0.0
	for _, r := range ar.Rows[:len(ar.Rows)-1] {
		if r.Dim == "accuracy" { // the first criterion of the default rubric
			first = r
		} else {
			worstOther = max(worstOther, 100-r.Agreement)
		}
	}
	t.Logf("flip rate: first criterion %.1f%%, others at most %.1f%%", 100-first.Agreement, worstOther)
	if 100-first.Agreement < 2*worstOther || first.Confusion.TP+first.Confusion.FN <= first.Confusion.TP+first.Confusion.FP {
		t.Errorf("the first criterion flips %.1f%% (%+v), others up to %.1f%%: want the position bias on it, met more often in the fixed run", 100-first.Agreement, first.Confusion, worstOther)
	}
	text, _, code := cli(t, t.Context(), "compare", fixed, shuffled)
	if code != 0 || !strings.Contains(text, "Avg") || !strings.Contains(text, "criterion_order") {
		t.Errorf("compare: exit %d, want the Avg row and a note that the judging differs by criterion order\n%s", code, text)
	}
}
