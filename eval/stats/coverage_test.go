package stats

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/psveval/psveval/eval"
)

// simDataset draws a dataset shaped like ../shared/data/medvqa-sample:
// 142 images holding 1 to 6 questions each (about 375 items), the
// questions of one image of several types. Each image has its own chance
// p that a criterion is met, m−d or m+d with even odds, so the items of
// an image go together; an item meets each of five criteria with that
// chance. d sets the intra-cluster correlation of the item scores,
// d²/(d² + (m(1−m) − d²)/5): 0.3 at m = 0.6 for d = 0.1376, and 0 for
// d = 0. shift is added to p for a candidate judged on the same items,
// scored afresh. It returns the base and the candidate run's results.
func simDataset(r *rand.Rand, m, d, shift float64, clustered bool) (base, cand []eval.Result) {
	id := 0
	for img := range 142 {
		p := m - d
		if r.IntN(2) == 1 {
			p = m + d
		}
		for range 1 + r.IntN(6) {
			typ := eval.QuestionTypes[r.IntN(len(eval.QuestionTypes))]
			key := ""
			if clustered {
				key = fmt.Sprintf("img-%03d", img)
			}
			for k, q := range []float64{p, p + shift} {
				met := 0
				for range 5 {
					if r.Float64() < q {
						met++
					}
				}
				score, all := float64(met)/5, met == 5
				res := eval.Result{ID: fmt.Sprintf("i%04d", id), QuestionType: typ, Status: eval.StatusOK, Score: &score, AllMet: &all, Cluster: key}
				if k == 0 {
					base = append(base, res)
				} else {
					cand = append(cand, res)
				}
			}
			id++
		}
	}
	return base, cand
}

// TestCoverage is the coverage of the 95% intervals by simulation, seeded:
// over 500 datasets shaped like the medvqa sample, with outcomes
// correlated within an image (ICC 0.3) and independent (ICC 0), the Avg
// interval and the paired Δ interval each cover the truth in 93–97% of
// datasets when clusters are resampled. The item bootstrap's coverage is
// printed beside it: with ICC 0.3 it falls far short; with ICC 0 the
// cluster intervals are no wider than the item ones but for noise.
func TestCoverage(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a simulation of 500 datasets: -short and -race leave it out (.ci/run runs it without -race)")
	}
	t.Parallel()
	const sims, resamples = 500, 500
	const m, shift = 0.6, 0.05
	for _, tc := range []struct {
		name string
		d    float64
	}{{"ICC 0.3", 0.1376}, {"ICC 0", 0}} {
		r := rand.New(rand.NewPCG(24, uint64(tc.d*1e4)))
		var avgCover, deltaCover, avgItem, deltaItem int
		var widthCluster, widthItem float64
		for sim := range sims {
			base, cand := simDataset(r, m, tc.d, shift, true)
			for _, clustered := range []bool{true, false} {
				agg := NewAggregator(AggregateOptions{Resamples: resamples, Seed: uint64(sim + 1)})
				bs, cs := map[string]Scored{}, map[string]Scored{}
				for i := range base {
					b, c := base[i], cand[i]
					if !clustered {
						b.Cluster, c.Cluster = "", ""
					}
					agg.Add(b)
					bs[b.ID] = Scored{Group: b.QuestionType, Score: *b.Score, Cluster: b.Cluster}
					cs[c.ID] = Scored{Group: c.QuestionType, Score: *c.Score, Cluster: c.Cluster}
				}
				s, err := agg.Summary()
				if err != nil {
					t.Fatal(err)
				}
				cmp := Compare(bs, cs, CompareOptions{Resamples: resamples, Seed: uint64(sim + 1), Thresholds: DefaultThresholds})
				avg := cmp.Rows[len(cmp.Rows)-2]
				okAvg := s.AvgMicroCI.Lo <= 100*m && 100*m <= s.AvgMicroCI.Hi
				okDelta := avg.CI.Lo <= 100*shift && 100*shift <= avg.CI.Hi
				if clustered {
					avgCover, deltaCover = avgCover+b2i(okAvg), deltaCover+b2i(okDelta)
					widthCluster += s.AvgMicroCI.Hi - s.AvgMicroCI.Lo
				} else {
					avgItem, deltaItem = avgItem+b2i(okAvg), deltaItem+b2i(okDelta)
					widthItem += s.AvgMicroCI.Hi - s.AvgMicroCI.Lo
				}
			}
		}
		pct := func(n int) float64 { return 100 * float64(n) / sims }
		t.Logf("%s: Avg interval covers %.1f%% resampling images, %.1f%% resampling items; paired Δ %.1f%% and %.1f%%; mean width %.2f vs %.2f points",
			tc.name, pct(avgCover), pct(avgItem), pct(deltaCover), pct(deltaItem), widthCluster/sims, widthItem/sims)
		for what, c := range map[string]int{"Avg": avgCover, "paired Δ": deltaCover} {
			if p := pct(c); p < 93 || p > 97 {
				t.Errorf("%s: the %s interval over clusters covers the truth in %.1f%% of %d datasets, want 93–97%%", tc.name, what, p, sims)
			}
		}
		if tc.d == 0 && widthCluster > 1.25*widthItem {
			t.Errorf("%s: with independent outcomes the cluster interval is %.2f× as wide as the item one, want at most 1.25×", tc.name, widthCluster/widthItem)
		}
		if tc.d > 0 && pct(avgItem) > 90 {
			t.Errorf("%s: the item bootstrap covers %.1f%%: the simulation does not cluster enough to tell the methods apart", tc.name, pct(avgItem))
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
