package stats

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
)

func TestPctFormatRoundsHalfAwayFromZero(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"8.75", "8.8"}, {"61.25", "61.3"}, {"61.35", "61.4"}, {"-8.75", "-8.8"}, {"-61.25", "-61.3"},
		{"0.05", "0.1"}, {"0.0499999", "0.0"}, {"-0.04", "0.0"}, {"100", "100.0"}, {"0", "0.0"},
		{"66.66666666666666666", "66.7"}, {"12.345", "12.3"},
	} {
		if got := MustPct(tc.in).Format(1); got != tc.want {
			t.Errorf("Pct(%s).Format(1) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := PctOf(49, 80).Format(1); got != "61.3" {
		t.Errorf("49/80 = %s, want 61.3", got)
	}
	if got := FormatSigned(MustPct("-0.04"), 1); got != "+0.0" {
		t.Errorf("FormatSigned(-0.04) = %s, want +0.0", got)
	}
	// Floats are read as their decimal value to 9 places: the float
	// nearest 61.35 sits below it, and still rounds up.
	for _, tc := range []struct {
		x    float64
		want string
	}{{61.35, "61.4"}, {61.349999999999994, "61.4"}, {8.75, "8.8"}, {-8.75, "-8.8"}, {61.34, "61.3"}} {
		if got := FormatFloat(tc.x, 1); got != tc.want {
			t.Errorf("FormatFloat(%v) = %s, want %s", tc.x, got, tc.want)
		}
	}
}

func TestPctJSON(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(struct{ A, B, C Pct }{A: PctOf(5, 8), B: PctOf(61, 150)})
	if string(b) != `{"A":62.5,"B":40.666666666666664,"C":null}` {
		t.Errorf("JSON = %s", b)
	}
	var back struct{ A, C Pct }
	if err := json.Unmarshal(b, &back); err != nil || back.A.Cmp(PctOf(5, 8)) != 0 || back.C.Valid() {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

// TestRatOfRecoversFractions checks that the stored float of every score
// a rubric of up to 40 points can give is read back as its exact fraction.
func TestRatOfRecoversFractions(t *testing.T) {
	t.Parallel()
	for den := int64(1); den <= 40; den++ {
		for num := int64(0); num <= den; num++ {
			x := float64(num) / float64(den)
			if got := ratOf(x); got.Cmp(big.NewRat(num, den)) != 0 {
				t.Fatalf("ratOf(%d/%d = %v) = %s", num, den, x, got)
			}
		}
	}
}

// TestAccuracyIsExact sums scores whose float sum drifts: 0.6 ten times
// is 5.999999999999999 in floats, and 61.25% must print 61.3.
func TestAccuracyIsExact(t *testing.T) {
	t.Parallel()
	a := NewAggregator(AggregateOptions{Resamples: -1})
	add := func(id string, score float64) {
		a.Add(eval.Result{ID: id, QuestionType: "Visual Perception", Status: eval.StatusOK, Score: &score})
	}
	for i := range 10 {
		add(fmt.Sprint("p", i), 0.6)
	}
	for i := range 43 {
		add(fmt.Sprint("f", i), 1)
	}
	for i := range 27 {
		add(fmt.Sprint("z", i), 0)
	}
	s, err := a.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if s.ByType[0].Accuracy.Cmp(MustPct("61.25")) != 0 || s.AvgMicro.Format(1) != "61.3" {
		t.Errorf("accuracy = %s (%s), want exactly 61.25", s.ByType[0].Accuracy.Format(9), s.AvgMicro.Format(1))
	}
	if s.ByType[0].CI != nil || s.AvgMicroCI != nil || s.Bootstrap != nil {
		t.Errorf("intervals without a bootstrap: %+v", s)
	}
	empty, _ := NewAggregator(AggregateOptions{}).Summary()
	b, _ := json.Marshal(empty)
	for _, want := range []string{`"by_type":[]`, `"avg_micro":null`, `"avg_macro":null`, `"all_met":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("empty summary lacks %s: %s", want, b)
		}
	}
}

// randomRuns draws two runs over the same ids with scores in fifths.
func randomRuns(seed uint64, n int, shift float64) (a, b map[string]Scored) {
	r := rand.New(rand.NewPCG(seed, 9))
	a, b = map[string]Scored{}, map[string]Scored{}
	groups := []string{"Visual Perception", "Factual Verification", "Diagnostic Inference"}
	for i := range n {
		id := fmt.Sprintf("item-%04d", i)
		g := groups[i%len(groups)]
		x := float64(r.IntN(6)) / 5
		y := x
		if r.Float64() < 0.4 {
			y = min(1, max(0, float64(r.IntN(6))/5+shift))
		}
		a[id], b[id] = Scored{Group: g, Score: x}, Scored{Group: g, Score: y}
	}
	return a, b
}

// TestCompareSwap checks that swapping base and candidate only flips
// signs: every difference and interval negated exactly, p-values equal.
func TestCompareSwap(t *testing.T) {
	t.Parallel()
	for seed := range uint64(8) {
		a, b := randomRuns(seed, 150+int(seed)*37, -0.1)
		ab := Compare(a, b, CompareOptions{})
		ba := Compare(b, a, CompareOptions{})
		if len(ab.Rows) != len(ba.Rows) || ab.Improved != ba.Worsened || ab.Worsened != ba.Improved {
			t.Fatalf("seed %d: shapes differ: %+v vs %+v", seed, ab, ba)
		}
		for i, x := range ab.Rows {
			y := ba.Rows[i]
			if x.Delta.Cmp(y.Delta.Neg()) != 0 || x.CI.Lo != -y.CI.Hi || x.CI.Hi != -y.CI.Lo || x.P != y.P ||
				x.Base.Cmp(y.Cand) != 0 || x.Significant != y.Significant {
				t.Errorf("seed %d, %s: compare(A,B) = %s %+v p %v; compare(B,A) = %s %+v p %v",
					seed, x.Group, x.Delta.Format(6), x.CI, x.P, y.Delta.Format(6), y.CI, y.P)
			}
		}
	}
}

// TestCompareIntervalAgreesWithP checks that the interval excludes 0
// exactly when p < alpha, for several levels and many data sets.
func TestCompareIntervalAgreesWithP(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		a, b := randomRuns(seed, 60+int(seed)*5, []float64{0, -0.05, -0.1, 0.1}[seed%4])
		for _, alpha := range []float64{0.01, 0.05, 0.1, 0.3} {
			c := Compare(a, b, CompareOptions{Resamples: 999, Thresholds: Thresholds{MinN: 1, Alpha: alpha}})
			for _, r := range c.Rows {
				excludes := r.CI.Lo > 0 || r.CI.Hi < 0
				if excludes != (r.P < alpha) || r.Significant != (r.P < alpha) {
					t.Errorf("seed %d α %g %s: CI %+v, p %v, significant %v", seed, alpha, r.Group, r.CI, r.P, r.Significant)
				}
			}
		}
	}
}
