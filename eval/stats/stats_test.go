package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/psveval/psveval/eval"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestCohenKappa(t *testing.T) {
	t.Parallel()
	// 50 units: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: po = 0.7,
	// pe = 0.5·0.6 + 0.5·0.4 = 0.5, κ = 0.4 (Wikipedia's worked example).
	var a, b []bool
	add := func(n int, x, y bool) {
		for range n {
			a, b = append(a, x), append(b, y)
		}
	}
	add(20, true, true)
	add(5, true, false)
	add(10, false, true)
	add(15, false, false)
	if k := cohenKappa(a, b); !near(k, 0.4, 1e-12) {
		t.Errorf("κ = %v, want 0.4", k)
	}
	if k := cohenKappa(a, a); k != 1 {
		t.Errorf("κ of a rater with itself = %v", k)
	}
}

func TestFleissKappa(t *testing.T) {
	t.Parallel()
	// 4 units, 3 raters, yes counts 3, 0, 2, 1. P_i = 1, 1, 1/3, 1/3:
	// P̄ = 2/3. p_yes = 6/12: P_e = 0.5. κ = (2/3 - 1/2)/(1/2) = 1/3.
	if k := fleissKappa([]int{3, 0, 2, 1}, 3); !near(k, 1.0/3, 1e-12) {
		t.Errorf("κ = %v, want 1/3", k)
	}
	if k := fleissKappa([]int{3, 0, 3, 0}, 3); k != 1 {
		t.Errorf("perfect agreement: κ = %v", k)
	}
}

func TestWilson(t *testing.T) {
	t.Parallel()
	// 8 of 10: [0.490, 0.943] (standard tables).
	w := wilson(8, 10)
	if !near(w.Lo, 0.4902, 1e-4) || !near(w.Hi, 0.9433, 1e-4) {
		t.Errorf("wilson(8, 10) = %+v", w)
	}
	if w := wilson(0, 20); w.Lo != 0 || !near(w.Hi, 0.1611, 1e-4) {
		t.Errorf("wilson(0, 20) = %+v", w)
	}
}

func TestBootstrapIsSeededAndCovers(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 500)
	for i := range xs {
		xs[i] = float64(r.IntN(6)) / 5
	}
	mean1 := func() []float64 {
		cs := newClusterSet(len(xs), func(int) string { return "" })
		return cs.columnReps(xs, make([]int, len(xs)), 1, 2000, 7, 0)[1] // micro
	}
	a := mean1()
	b := mean1()
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same seed gave other resamples")
		}
	}
	var mean, sd float64
	for _, x := range xs {
		mean += float64(x)
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (float64(x) - mean) * (float64(x) - mean)
	}
	se := math.Sqrt(sd/float64(len(xs)-1)) / math.Sqrt(float64(len(xs)))
	ci := percentileInterval(a, 0.95)
	// The percentile interval of a mean matches ±1.96 standard errors to
	// within a few percent of its width at n = 500.
	if !near(ci.Lo, mean-1.96*se, 0.15*se) || !near(ci.Hi, mean+1.96*se, 0.15*se) {
		t.Errorf("interval %+v, normal approximation [%v, %v]", ci, mean-1.96*se, mean+1.96*se)
	}
}

func scored(n int, p float64, seed uint64, group string) map[string]Scored {
	r := rand.New(rand.NewPCG(seed, 1))
	m := map[string]Scored{}
	for i := range n {
		met := 0
		for range 5 {
			if r.Float64() < p {
				met++
			}
		}
		m[group+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676))] = Scored{Group: group, Score: float64(met) / 5}
	}
	return m
}

func TestCompare(t *testing.T) {
	t.Parallel()
	base := scored(1000, 0.6, 1, "Visual Perception")
	same := Compare(base, base, CompareOptions{})
	for _, r := range same.Rows {
		if r.Delta.Sign() != 0 || r.P != 1 || r.Significant || r.Regressed {
			t.Errorf("identical runs: %+v", r)
		}
	}
	// Shift every score down by 0.2 on 30% of items: a clear drop.
	worse := map[string]Scored{}
	i := 0
	for id, s := range base {
		if i%10 < 3 && s.Score >= 0.2 {
			s.Score -= 0.2
		}
		worse[id] = s
		i++
	}
	c := Compare(base, worse, CompareOptions{})
	row := c.Rows[0]
	if row.Delta.Float64() >= -3 || row.P > 0.01 || !row.Regressed || row.CI.Hi >= 0 {
		t.Errorf("clear drop: %+v", row)
	}
	if c.Worsened == 0 || c.Improved != 0 || c.Paired != 1000 {
		t.Errorf("counts: %+v", c)
	}
	// The same drop is not a regression when allowed.
	c = Compare(base, worse, CompareOptions{Thresholds: Thresholds{MinN: 30, MaxDrop: 10, Alpha: 0.05}})
	if c.Rows[0].Regressed || !c.Rows[0].Significant {
		t.Errorf("drop within max-drop: %+v", c.Rows[0])
	}
	// Unpaired items are counted and left out.
	delete(worse, firstKey(worse))
	c = Compare(base, worse, CompareOptions{})
	if c.OnlyBase != 1 || c.Paired != 999 {
		t.Errorf("unpaired: %+v", c)
	}
	// Small groups are never gated.
	small := scored(10, 0.6, 2, "Clinical Management")
	smallWorse := map[string]Scored{}
	for id, s := range small {
		s.Score = 0
		smallWorse[id] = s
	}
	c = Compare(small, smallWorse, CompareOptions{})
	if r := c.Rows[0]; !r.Small || r.Regressed {
		t.Errorf("small group: %+v", r)
	}
}

func firstKey(m map[string]Scored) string {
	for k := range m {
		return k
	}
	return ""
}

// TestCompareFalsePositiveRate checks the p-value's calibration: two
// runs that differ only by noise are called significant about α of the time.
func TestCompareFalsePositiveRate(t *testing.T) {
	t.Parallel()
	sig := 0
	const trials = 100
	for s := range uint64(trials) {
		base := scored(300, 0.6, 100+s, "Visual Perception")
		cand := map[string]Scored{}
		r := rand.New(rand.NewPCG(s, 9))
		for id, sc := range base {
			// Re-draw 30% of items from the same distribution.
			if r.Float64() < 0.3 {
				met := 0
				for range 5 {
					if r.Float64() < 0.6 {
						met++
					}
				}
				sc.Score = float64(met) / 5
			}
			cand[id] = sc
		}
		if Compare(base, cand, CompareOptions{Resamples: 1000, Seed: s + 1}).Rows[0].Significant {
			sig++
		}
	}
	if sig > 12 {
		t.Errorf("%d of %d null comparisons significant at α=0.05", sig, trials)
	}
}

func TestSummaryChecksConsistency(t *testing.T) {
	t.Parallel()
	a := NewAggregator(AggregateOptions{Resamples: -1})
	one := 1.0
	a.Add(eval.Result{ID: "a", QuestionType: "Visual Perception", Status: eval.StatusOK}) // scored without a score
	if _, err := a.Summary(); !errors.Is(err, ErrInconsistent) {
		t.Errorf("Summary = %v, want ErrInconsistent", err)
	}
	a = NewAggregator(AggregateOptions{Resamples: -1})
	a.Add(eval.Result{ID: "a", QuestionType: "Visual Perception", Status: eval.StatusOK, Score: &one})
	a.Add(eval.Result{ID: "b", QuestionType: "Visual Perception", Status: eval.StatusUnscored})
	a.Add(eval.Result{ID: "c", QuestionType: "Clinical Management", Status: eval.StatusError})
	s, err := a.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if s.NItems != 3 || s.NScored != 1 || s.NUnscored != 1 || s.NErrors != 1 || s.AvgMicro.Format(9) != "100.000000000" || s.ByType[1].NScored != 0 {
		t.Errorf("summary = %+v", s)
	}
}

func TestMicroAndMacroDiffer(t *testing.T) {
	t.Parallel()
	a := NewAggregator(AggregateOptions{})
	one, zero := 1.0, 0.0
	for i := range 90 {
		a.Add(eval.Result{ID: string(rune(i)), QuestionType: "Diagnostic Inference", Status: eval.StatusOK, Score: &zero})
	}
	for i := range 10 {
		a.Add(eval.Result{ID: "v" + string(rune(i)), QuestionType: "Visual Perception", Status: eval.StatusOK, Score: &one})
	}
	s, err := a.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if s.AvgMicro.Cmp(MustPct("10")) != 0 || s.AvgMacro.Cmp(MustPct("50")) != 0 {
		t.Errorf("micro %v (want 10), macro %v (want 50)", s.AvgMicro, s.AvgMacro)
	}
	if s.ByType[0].QuestionType != "Visual Perception" {
		t.Errorf("types not in the paper's order: %v", s.ByType)
	}
}

func TestAgreement(t *testing.T) {
	t.Parallel()
	a := NewAggregator(AggregateOptions{Resamples: -1})
	tr, fa := true, false
	one := 1.0
	votes := [][2]*bool{{&tr, &tr}, {&tr, &fa}, {&fa, &fa}, {&fa, &fa}, {nil, &tr}}
	for i, v := range votes {
		a.Add(eval.Result{ID: string(rune('a' + i)), QuestionType: "x", Status: eval.StatusOK, Score: &one,
			Judges: []eval.JudgeVote{{Judge: "j1", Met: []*bool{v[0]}}, {Judge: "j2", Met: []*bool{v[1]}}}})
	}
	s, _ := a.Summary()
	ag := s.Agreement
	// 4 units both scored, 3 agree; p1 = 0.5, p2 = 0.25: pe = 0.5, κ = 0.5.
	if ag == nil || ag.Units != 4 || ag.Percent != 75 || ag.CohenKappa == nil || !near(*ag.CohenKappa, 0.5, 1e-12) {
		t.Errorf("agreement = %+v", ag)
	}
}
