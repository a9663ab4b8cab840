package stats_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/stats"
)

// gateRun aggregates results into one side of a gate.
func gateRun(t *testing.T, name string, rs []eval.Result) stats.GateRun {
	t.Helper()
	agg := stats.NewAggregator(stats.AggregateOptions{Resamples: -1})
	scores := map[string]stats.Scored{}
	for _, r := range rs {
		agg.Add(r)
		if r.Score != nil {
			scores[r.ID] = stats.Scored{Group: agg.GroupOf(&r), Score: *r.Score}
		}
	}
	s, err := agg.Summary()
	if err != nil {
		t.Fatal(err)
	}
	return stats.GateRun{Name: name, Summary: s, Scores: scores}
}

// shifted returns n results per PSV2026 type, every item scoring met of
// five, with the Clinical Management items scoring cm instead.
func shifted(n, met, cm int) []eval.Result {
	var out []eval.Result
	for _, typ := range eval.QuestionTypes {
		for i := range n {
			m := met
			if typ == "Clinical Management" {
				m = cm
			}
			out = append(out, evaltest.Result(fmt.Sprintf("%s-%03d", eval.QuestionTypeAbbrev[typ], i), typ, m))
		}
	}
	return out
}

func policy(types string) stats.GatePolicy {
	return stats.GatePolicy{
		Compare:      stats.CompareOptions{Resamples: 500, Seed: 1, Thresholds: stats.DefaultThresholds},
		Types:        types,
		MaxErrorRate: 0.01,
	}
}

// TestGate decides without the CLI: a drop in one column fails a gate
// on that column and passes one on another; a run with too many errors,
// or none evaluated, runs that share no item, an unknown column and a
// gate with nothing large enough to gate are refused with their kind.
func TestGate(t *testing.T) {
	t.Parallel()
	base := gateRun(t, "base", shifted(60, 4, 4))
	cand := gateRun(t, "cand", shifted(60, 4, 1))

	d, err := stats.Gate(base, cand, policy("CM"))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Failed() || len(d.Regressed) != 1 || d.Regressed[0].Group != "Clinical Management" {
		t.Errorf("Gate(CM) regressed %+v, want Clinical Management alone", d.Regressed)
	}
	d, err = stats.Gate(base, cand, policy("VP,FV"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Failed() || len(d.Checked) != 2 {
		t.Errorf("Gate(VP,FV): failed %v, checked %d columns, want a pass over 2", d.Failed(), len(d.Checked))
	}
	d, err = stats.Gate(base, cand, policy("all"))
	if err != nil || !d.Failed() || d.Gated != nil {
		t.Errorf("Gate(all) = %+v, %v; want a failure with every column gated", d, err)
	}

	errored := shifted(60, 4, 4)
	for i := range 10 {
		errored[i].Status, errored[i].Score, errored[i].Error = eval.StatusError, nil, "boom"
	}
	unpaired := shifted(60, 4, 4)
	for i := range unpaired {
		unpaired[i].ID = "other-" + unpaired[i].ID
	}
	skipped := gateRun(t, "skipped", shifted(60, 4, 4))
	skipped.Skipped = 4
	var noCM []eval.Result
	for _, r := range shifted(60, 4, 4) {
		if r.QuestionType != "Clinical Management" {
			noCM = append(noCM, r)
		}
	}
	small := policy("avg")
	small.Compare.Thresholds.MinN = 10_000
	for _, tc := range []struct {
		name       string
		base, cand stats.GateRun
		p          stats.GatePolicy
		kind, want string
		usage      bool
	}{
		{"errors above the rate", base, gateRun(t, "errored", errored), policy("avg"), "error-rate", "errored: 10 of 360 items unscored, errored or not evaluated", false},
		{"items skipped", base, skipped, policy("avg"), "error-rate", "4 items skipped as bad input", false},
		{"a type missing", base, gateRun(t, "no-cm", noCM), policy("avg"), "error-rate", "no scored item of Clinical Management", false},
		{"an empty run", base, gateRun(t, "empty", nil), policy("avg"), "error-rate", "empty: no item was evaluated", false},
		{"no shared item", base, gateRun(t, "other", unpaired), policy("avg"), "unpaired", "share no scored items", true},
		{"an unknown column", base, cand, policy("avg,XX"), "types", `XX is not a column`, true},
		{"every column small", base, cand, small, "nothing-gated", "nothing gated", false},
	} {
		_, err := stats.Gate(tc.base, tc.cand, tc.p)
		ge, ok := errors.AsType[*stats.GateError](err)
		if !ok || ge.Kind != tc.kind || !strings.Contains(err.Error(), tc.want) || ge.Usage() != tc.usage {
			t.Errorf("%s: Gate = %v (%+v), want a %s GateError saying %q, usage %v", tc.name, err, ge, tc.kind, tc.want, tc.usage)
		}
	}
}

// TestCheckErrorRate: the one rule for psveval run and the gate.
func TestCheckErrorRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		items, unscored, errors int
		max                     float64
		ok                      bool
	}{
		{100, 0, 1, 0.01, true},
		{100, 1, 1, 0.01, false},
		{100, 0, 0, 0, true},
		{0, 0, 0, 1, false},
	} {
		err := stats.CheckErrorRate(&stats.Summary{NItems: tc.items, NUnscored: tc.unscored, NErrors: tc.errors}, tc.max)
		if (err == nil) != tc.ok {
			t.Errorf("CheckErrorRate(%d items, %d unscored, %d errors, max %g) = %v, want ok %v", tc.items, tc.unscored, tc.errors, tc.max, err, tc.ok)
		}
	}
}
