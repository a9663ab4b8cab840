package stats

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
)

func result(id, typ string, score float64, cluster string) eval.Result {
	all := score == 1
	return eval.Result{ID: id, QuestionType: typ, Status: eval.StatusOK, Score: &score, AllMet: &all, Cluster: cluster}
}

// TestClustersWidenIntervals: items that share an image and go together
// widen the Avg interval, which reports its design effect; the same
// items as clusters of their own do not.
func TestClustersWidenIntervals(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	summary := func(clustered bool) *Summary {
		agg := NewAggregator(AggregateOptions{Resamples: 2000, Seed: 3})
		for img := range 60 {
			good := r.IntN(2) == 0
			for q := range 5 {
				score := 0.2
				if good {
					score = 0.8
				}
				key := ""
				if clustered {
					key = fmt.Sprint("img", img)
				}
				agg.Add(result(fmt.Sprintf("%d-%d", img, q), eval.QuestionTypes[q], score, key))
			}
		}
		s, err := agg.Summary()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	c, i := summary(true), summary(false)
	wc, wi := c.AvgMicroCI.Hi-c.AvgMicroCI.Lo, i.AvgMicroCI.Hi-i.AvgMicroCI.Lo
	if wc < 1.5*wi || c.AvgMicroDeff == nil || *c.AvgMicroDeff < 2 || c.Bootstrap.Clusters != 60 {
		t.Errorf("clustered Avg interval %.1f wide (design effect %v, %d clusters), item interval %.1f: want a much wider one with its design effect", wc, ptrVal(c.AvgMicroDeff), c.Bootstrap.Clusters, wi)
	}
	if i.AvgMicroDeff == nil || *i.AvgMicroDeff != 1 || i.Bootstrap.Clusters != 0 {
		t.Errorf("without clusters: design effect %v, %d clusters; want 1 and none", ptrVal(i.AvgMicroDeff), i.Bootstrap.Clusters)
	}
}

func ptrVal(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// TestFewItemsGetNoExactInterval: a run of four items, one a type (as
// --limit 4 gives), prints no interval that looks exact: Avg's interval
// has width, and Macro, whose groups are single items that resamples
// often leave out, gets none.
func TestFewItemsGetNoExactInterval(t *testing.T) {
	t.Parallel()
	agg := NewAggregator(AggregateOptions{})
	for i, sc := range []float64{0.2, 0.6, 0.8, 0.5} {
		agg.Add(result(fmt.Sprint(i), eval.QuestionTypes[i], sc, ""))
	}
	s, err := agg.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if s.AvgMicroCI == nil || s.AvgMicroCI.Hi-s.AvgMicroCI.Lo < 10 {
		t.Errorf("Avg interval of 4 items %+v: want an honest, wide one", s.AvgMicroCI)
	}
	if s.AvgMacroCI != nil && s.AvgMacroCI.Hi == s.AvgMacroCI.Lo {
		t.Errorf("Macro interval %+v looks exact", s.AvgMacroCI)
	}
	for _, ts := range s.ByType {
		if ts.CI != nil {
			t.Errorf("%s (one item) has an interval %+v", ts.QuestionType, ts.CI)
		}
	}
}

// TestMacroSaysWhatItLeavesOut: a type whose items all errored is named
// as left out of Macro, and a comparison refuses to compare Macros over
// different types.
func TestMacroSaysWhatItLeavesOut(t *testing.T) {
	t.Parallel()
	agg := NewAggregator(AggregateOptions{Resamples: -1})
	base, cand := map[string]Scored{}, map[string]Scored{}
	for i := range 60 {
		typ := eval.QuestionTypes[i%3]
		res := result(fmt.Sprint(i), typ, 0.6, "")
		base[res.ID] = Scored{Group: typ, Score: 0.6}
		if typ == eval.QuestionTypes[2] {
			res.Status, res.Score = eval.StatusError, nil
		} else {
			cand[res.ID] = Scored{Group: typ, Score: 0.4}
		}
		agg.Add(res)
	}
	s, err := agg.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.MacroExcludes, ",") != eval.QuestionTypes[2] {
		t.Errorf("MacroExcludes = %v, want %s", s.MacroExcludes, eval.QuestionTypes[2])
	}
	c := Compare(base, cand, CompareOptions{Resamples: 200, Seed: 1})
	for _, r := range c.Rows {
		if r.Group == AvgMacro {
			t.Errorf("a Macro row compares %v over 3 types with %v over 2", r.Base, r.Cand)
		}
	}
	if !strings.Contains(c.MacroRefused, eval.QuestionTypes[2]+" scored in the base only") {
		t.Errorf("MacroRefused = %q", c.MacroRefused)
	}
}

// TestBestOfTies: identical points do not dilute each other out of the
// plausible set (each wins where the family does), and an exact tie
// names every tied value.
func TestBestOfTies(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	a, b := map[string]Scored{}, map[string]Scored{}
	for i := range 300 {
		id, typ := fmt.Sprint(i), eval.QuestionTypes[i%6]
		a[id] = Scored{Group: typ, Score: float64(r.IntN(6)) / 5}
		b[id] = Scored{Group: typ, Score: min(1, a[id].Score+float64(r.IntN(3))/10)}
	}
	two := BestOf([]float64{0, 1}, []map[string]Scored{a, b}, 1000, 1)
	four := BestOf([]float64{0, 0.25, 0.5, 1}, []map[string]Scored{a, a, a, b}, 1000, 1)
	for c := range two {
		want := two[c].Share(0)
		for _, v := range []float64{0, 0.25, 0.5} {
			if got := four[c].Share(v); got != want {
				t.Errorf("%s: an identical point's share %.1f%%, alone %.1f%%: identical points dilute each other", four[c].Group, got, want)
			}
		}
	}
	tied := BestOf([]float64{0, 0.5, 1}, []map[string]Scored{b, b, a}, 200, 1)
	for _, bc := range tied {
		if len(bc.Ties) != 2 || bc.Ties[0] != 0 || bc.Ties[1] != 0.5 {
			t.Errorf("%s: exact tie of 0 and 0.5 named as best %v, ties %v", bc.Group, bc.Best, bc.Ties)
		}
	}
}
