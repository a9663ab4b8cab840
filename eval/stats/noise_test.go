package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/psveval/psveval/eval"
)

// judgings simulates K judgings of n answers by a judge that flips each
// of five criteria with chance p, independently, plus, when shift > 0, a
// shift of every item's chance of a met criterion drawn per judging
// (a judge version that marks everything a little more kindly).
func judgings(r *rand.Rand, n, k int, p, shift float64) ([]*Summary, []map[string]Scored) {
	truth := make([]int, n) // met criteria, of 5, before the judge
	for i := range truth {
		truth[i] = r.IntN(6)
	}
	var sums []*Summary
	var scores []map[string]Scored
	for range k {
		delta := shift * r.NormFloat64()
		agg := NewAggregator(AggregateOptions{Resamples: 200, Seed: 1})
		sc := map[string]Scored{}
		for i := range n {
			met := 0
			for c := range 5 {
				m := c < truth[i]
				if r.Float64() < p {
					m = !m
				}
				if r.Float64() < math.Abs(delta) {
					m = delta > 0
				}
				if m {
					met++
				}
			}
			id, typ := fmt.Sprintf("i%03d", i), eval.QuestionTypes[i%6]
			res := result(id, typ, float64(met)/5, "")
			agg.Add(res)
			sc[id] = Scored{Group: typ, Score: *res.Score}
		}
		s, _ := agg.Summary()
		sums, scores = append(sums, s), append(scores, sc)
	}
	return sums, scores
}

// TestNoisePooledFromItems: the judge SD pooled from the items' variance
// across K = 4 repeats lands within 15% of a flip-p judge's known SD,
// √(p(1−p)/(5n)), in at least 95% of 200 simulations, and finds no shared
// shift in at least 90% of them; a judge whose judgings shift every item
// together has its shift found.
func TestNoisePooledFromItems(t *testing.T) {
	if raceEnabled {
		t.Skip("a simulation: -race leaves it out (.ci/run runs it without -race)")
	}
	t.Parallel()
	const n, k, p = 300, 4, 0.1
	r := rand.New(rand.NewPCG(7, 8))
	want := 100 * math.Sqrt(p*(1-p)/(5*n))
	within, noShared := 0, 0
	for range 200 {
		sums, scores := judgings(r, n, k, p, 0)
		noise := Noise(nil, make([]map[string]map[string]*bool, k), sums, scores)
		c := noise.Columns[len(noise.Columns)-2]
		if c.Group != AvgMicro {
			t.Fatalf("column %q, want Avg (micro)", c.Group)
		}
		if math.Abs(c.JudgeSD-want) <= 0.15*want {
			within++
		}
		if c.SharedSD == 0 {
			noShared++
		}
	}
	if within < 190 || noShared < 180 {
		t.Errorf("judge SD within 15%% of %.3f in %d of 200, no shared SD in %d of 200: want at least 190 and 180", want, within, noShared)
	}
	sums, scores := judgings(r, n, 12, p, 0.1)
	c := Noise(nil, make([]map[string]map[string]*bool, 12), sums, scores).Columns
	if avg := c[len(c)-2]; avg.SharedSD < 2 {
		t.Errorf("a judge that shifts every item by about 10%% per judging: shared SD %.2f points, want it found", avg.SharedSD)
	}
}

// TestAddJudgeNoise: noise shared across items widens the interval and
// never makes p smaller; an sd of 0, what a judge with independent
// per-item noise has, leaves the paired interval as it is.
func TestAddJudgeNoise(t *testing.T) {
	t.Parallel()
	a, b := map[string]Scored{}, map[string]Scored{}
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 400 {
		id, typ := fmt.Sprint(i), eval.QuestionTypes[i%6]
		a[id] = Scored{Group: typ, Score: float64(r.IntN(6)) / 5}
		b[id] = Scored{Group: typ, Score: min(1, max(0, a[id].Score+float64(r.IntN(3)-1)/5))}
	}
	opts := CompareOptions{Resamples: 2000, Seed: 1, Thresholds: DefaultThresholds}
	plain := Compare(a, b, opts)
	zero := Compare(a, b, opts)
	if w := zero.AddJudgeNoise(map[string]float64{AvgMicro: 0}); len(w) != 0 || zero.Rows[6].CI != plain.Rows[6].CI || zero.Rows[6].P != plain.Rows[6].P {
		t.Errorf("an sd of 0 widened %v: %+v p %g vs %+v p %g", w, zero.Rows[6].CI, zero.Rows[6].P, plain.Rows[6].CI, plain.Rows[6].P)
	}
	for _, sd := range []float64{0.1, 0.5, 2, 10} {
		c := Compare(a, b, opts)
		c.AddJudgeNoise(map[string]float64{AvgMicro: sd})
		got, was := c.Rows[6], plain.Rows[6]
		if got.P < was.P || got.CI.Lo > was.CI.Lo || got.CI.Hi < was.CI.Hi {
			t.Errorf("sd %g: p %g → %g, interval %+v → %+v: noise must widen and never lower p", sd, was.P, got.P, was.CI, got.CI)
		}
	}
}
