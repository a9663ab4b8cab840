package stats

import (
	"math"
	"testing"
)

func binomPMF(n, k int, p float64) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	return math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log(1-p))
}

// TestBinomialDistribution compares draws with the exact distribution by a
// chi-square test, over both algorithms (inversion and BTRD) and the
// symmetry for p > 1/2. A seeded test: its outcome never varies.
func TestBinomialDistribution(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n int
		p float64
	}{{8, 0.3}, {40, 0.2}, {30, 0.5}, {100, 0.1}, {1544, 0.5}, {1544, 0.07}, {1544, 0.93}, {9264, 0.31}, {200, 0.8}} {
		s := newSampler(42, uint64(tc.n))
		const draws = 100000
		counts := map[int]int{}
		var sum float64
		for range draws {
			k := s.binomial(tc.n, tc.p)
			if k < 0 || k > tc.n {
				t.Fatalf("Binomial(%d, %v) drew %d", tc.n, tc.p, k)
			}
			counts[k]++
			sum += float64(k)
		}
		// Pool the tails into cells with expected count ≥ 5.
		var chi2 float64
		cells := 0
		var obs, exp float64
		for k := 0; k <= tc.n; k++ {
			obs += float64(counts[k])
			exp += draws * binomPMF(tc.n, k, tc.p)
			if exp >= 5 || k == tc.n {
				chi2 += (obs - exp) * (obs - exp) / math.Max(exp, 1e-9)
				cells++
				obs, exp = 0, 0
			}
		}
		// For cells-1 degrees of freedom the 99.9% point is below
		// df + 3.3·sqrt(2·df) + 10.
		df := float64(cells - 1)
		if limit := df + 3.3*math.Sqrt(2*df) + 10; chi2 > limit {
			t.Errorf("Binomial(%d, %v): chi² = %.1f over %d cells, above %.1f", tc.n, tc.p, chi2, cells, limit)
		}
		mean := sum / draws
		if want := float64(tc.n) * tc.p; math.Abs(mean-want) > 5*math.Sqrt(want*(1-tc.p)/draws)+1e-9 {
			t.Errorf("Binomial(%d, %v): mean %.3f, want %.3f", tc.n, tc.p, mean, want)
		}
	}
}

// TestResampleByCountsMatchesByItems checks that resampling counts gives
// the same distribution of means as resampling items.
func TestResampleByCountsMatchesByItems(t *testing.T) {
	t.Parallel()
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = float64(i%6) / 5
	}
	reps := func(oneByOne bool) []float64 {
		cs := newClusterSet(len(xs), func(int) string { return "" })
		cs.oneByOne = oneByOne
		return cs.columnReps(xs, make([]int, len(xs)), 1, 4000, 1, 1)[1] // micro
	}
	byCounts, byItems := reps(false), reps(true)
	mc, sc := meanSD(byCounts)
	mi, si := meanSD(byItems)
	if math.Abs(mc-mi) > 0.002 || math.Abs(sc/si-1) > 0.06 {
		t.Errorf("by counts: mean %.4f sd %.5f; by items: mean %.4f sd %.5f", mc, sc, mi, si)
	}
}

func meanSD(xs []float64) (float64, float64) {
	var m, v float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)-1))
}
