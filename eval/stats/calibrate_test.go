package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/psveval/psveval/eval"
)

// simJudged draws a run shaped like the medvqa sample but larger: images
// holding 1 to 6 questions each, of random types; each image has its own
// chance m−d or m+d that a person finds a criterion met, and an item has
// five criteria. The judge misses a met criterion with chance miss and
// passes an unmet one with chance pass. The truth, the mean human score
// over the population, is m. Every item's human score is kept; the
// caller decides which are labelled.
func simJudged(r *rand.Rand, images int, m, d, miss, pass float64) []CalItem {
	var out []CalItem
	for img := range images {
		p := m - d
		if r.IntN(2) == 1 {
			p = m + d
		}
		for range 1 + r.IntN(6) {
			var hm, jm int
			for range 5 {
				h := r.Float64() < p
				j := h
				if h && r.Float64() < miss || !h && r.Float64() < pass {
					j = !h
				}
				hm += int(b2f(h))
				jm += int(b2f(j))
			}
			out = append(out, CalItem{
				ID: fmt.Sprintf("i%05d", len(out)), Group: eval.QuestionTypes[r.IntN(len(eval.QuestionTypes))],
				Cluster: fmt.Sprintf("img-%04d", img),
				Judge:   float64(jm) / 5, JudgeAllMet: jm == 5, Human: float64(hm) / 5, HumanAllMet: hm == 5,
			})
		}
	}
	return out
}

// labelUniform marks a uniform random share of the items labelled.
func labelUniform(items []CalItem, n int, seed uint64) {
	picked, _ := Sample(make([]string, len(items)), n, seed)
	for _, i := range picked {
		items[i].Labelled = true
	}
}

// TestCalibrateCoverage checks judge-corrected accuracy by simulation,
// seeded: a judge that misses a quarter of the met criteria and passes
// 15% of the unmet ones, on 500 runs of about 1,000 items in about 290
// images (outcomes correlated within an image), 10% of the items
// labelled at random. The corrected 95% interval of Avg covers the truth
// in 93–97% of runs; the raw judge's (the cluster bootstrap of the
// judge's own scores) covers it far less often. Both are printed, as are
// the per-type columns' coverage and the interval widths.
func TestCalibrateCoverage(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a simulation of 500 runs: -short and -race leave it out (.ci/run runs it without -race)")
	}
	t.Parallel()
	const sims, m = 500, 0.6
	r := rand.New(rand.NewPCG(25, 1))
	var cover, rawCover, typeCover, typeCols, metCover int
	var width, rawWidth, labelsOnlyWidth float64
	for sim := range sims {
		items := simJudged(r, 290, m, 0.1376, 0.25, 0.15)
		labelUniform(items, len(items)/10, uint64(sim+1))
		cal := Calibrate(items, CalibrateOptions{})
		if cal.AvgMicroCI == nil {
			t.Fatalf("sim %d: no interval of Avg (%d labelled)", sim, cal.NLabelled)
		}
		if covers(cal.AvgMicroCI, m) {
			cover++
		}
		width += cal.AvgMicroCI.Hi - cal.AvgMicroCI.Lo
		for _, ct := range cal.ByType {
			if ct.Corrected {
				typeCols++
				if covers(ct.CI, m) {
					typeCover++
				}
			}
		}
		// All-met: the truth is E[p⁵] over the two image chances.
		pm := (math.Pow(m-0.1376, 5) + math.Pow(m+0.1376, 5)) / 2
		if cal.AllMetCI != nil && covers(cal.AllMetCI, pm) {
			metCover++
		}
		// The labels alone: a judge with nothing to say.
		alone := make([]CalItem, len(items))
		for i, it := range items {
			it.Judge, it.JudgeAllMet = 0, false
			alone[i] = it
		}
		la := Calibrate(alone, CalibrateOptions{})
		labelsOnlyWidth += la.AvgMicroCI.Hi - la.AvgMicroCI.Lo

		sum := rawSummary(t, items, 200, uint64(sim+1))
		if covers(sum.AvgMicroCI, m) {
			rawCover++
		}
		rawWidth += sum.AvgMicroCI.Hi - sum.AvgMicroCI.Lo
	}
	pct := func(k, n int) float64 { return 100 * float64(k) / float64(n) }
	t.Logf("Avg: corrected covers %.1f%% (mean width %.2f points), the raw judge %.1f%% (width %.2f), labels alone width %.2f", pct(cover, sims), width/sims, pct(rawCover, sims), rawWidth/sims, labelsOnlyWidth/sims)
	t.Logf("per type: corrected covers %.1f%% of %d columns; all-met %.1f%%", pct(typeCover, typeCols), typeCols, pct(metCover, sims))
	if c := pct(cover, sims); c < 93 || c > 97 {
		t.Errorf("corrected Avg covers the truth in %.1f%% of runs, want 93–97%%", c)
	}
	if c := pct(rawCover, sims); c > 50 {
		t.Errorf("the raw judge's interval covers the truth in %.1f%% of runs: the simulated judge is not biased enough to show the correction", c)
	}
	if c := pct(typeCover, typeCols); c < 92 || c > 98 {
		t.Errorf("corrected per-type columns cover the truth in %.1f%%, want 92–98%%", c)
	}
	if c := pct(metCover, sims); c < 92 || c > 98 {
		t.Errorf("corrected all-met covers the truth in %.1f%%, want 92–98%%", c)
	}
	if width > labelsOnlyWidth {
		t.Errorf("corrected interval (mean width %.2f) wider than the labels' alone (%.2f): the power tuning failed", width/sims, labelsOnlyWidth/sims)
	}
}

// TestCalibratePerfectJudge: with a judge that marks as the labellers
// do, the correction changes nothing and the interval is no wider than
// the raw judge's but for the t quantile and noise (5%).
func TestCalibratePerfectJudge(t *testing.T) {
	if raceEnabled {
		t.Skip("a simulation: .ci/run runs it without -race")
	}
	r := rand.New(rand.NewPCG(25, 2))
	var width, rawWidth float64
	for sim := range 100 {
		items := simJudged(r, 290, 0.6, 0.1376, 0, 0)
		labelUniform(items, len(items)/10, uint64(sim+1))
		cal := Calibrate(items, CalibrateOptions{})
		sum := rawSummary(t, items, 400, uint64(sim+1))
		if cal.Lambda != 1 {
			t.Fatalf("sim %d: λ = %g for a perfect judge, want 1", sim, cal.Lambda)
		}
		if d := math.Abs(cal.AvgMicro.Float64() - sum.AvgMicro.Float64()); d > 1e-6 {
			t.Fatalf("sim %d: corrected %v differs from raw %v by %g with a perfect judge", sim, cal.AvgMicro, sum.AvgMicro, d)
		}
		width += cal.AvgMicroCI.Hi - cal.AvgMicroCI.Lo
		rawWidth += sum.AvgMicroCI.Hi - sum.AvgMicroCI.Lo
	}
	t.Logf("perfect judge: corrected width %.3f, raw %.3f", width/100, rawWidth/100)
	if width > 1.05*rawWidth {
		t.Errorf("corrected width %.3f > 1.05 × raw %.3f with a perfect judge", width/100, rawWidth/100)
	}
}

// TestCalibrateStratified: a draw stratified by type, with equal floors
// that over-sample the rare types, still covers when the design weights
// are applied, and is biased when they are not (printed).
func TestCalibrateStratified(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a simulation of 400 runs: -short and -race leave it out")
	}
	t.Parallel()
	r := rand.New(rand.NewPCG(25, 3))
	const sims = 400
	var cover, coverUnweighted int
	for sim := range sims {
		items := simJudged(r, 290, 0.6, 0.1376, 0.25, 0.15)
		// Make one type rare, and the judge much harsher on it: the
		// floor over-samples it, so its large residuals weigh too much
		// unless the weights undo that.
		for i := range items {
			switch {
			case items[i].Group == eval.QuestionTypes[0] && i%4 != 0:
				items[i].Group = eval.QuestionTypes[1]
			case items[i].Group == eval.QuestionTypes[0]:
				items[i].Judge = max(items[i].Human-0.6, 0)
			}
		}
		strata := make([]string, len(items))
		for i, it := range items {
			strata[i] = it.Group
		}
		picked, st := Sample(strata, 60, uint64(sim+1))
		w := map[string]float64{}
		for _, s := range st {
			w[s.Key] = s.Weight()
		}
		for _, i := range picked {
			items[i].Labelled, items[i].Weight = true, w[items[i].Group]
		}
		if covers(Calibrate(items, CalibrateOptions{}).AvgMicroCI, 0.6) {
			cover++
		}
		for i := range items {
			items[i].Weight = 0
		}
		if covers(Calibrate(items, CalibrateOptions{}).AvgMicroCI, 0.6) {
			coverUnweighted++
		}
	}
	t.Logf("stratified draw: weighted covers %.1f%%, unweighted %.1f%%", 100*float64(cover)/sims, 100*float64(coverUnweighted)/sims)
	if c := 100 * float64(cover) / sims; c < 92.5 || c > 97.5 {
		t.Errorf("weighted estimate covers %.1f%%, want 92.5–97.5%%", c)
	}
	if coverUnweighted > cover-5*sims/100 {
		t.Errorf("unweighted covers %d of %d runs, weighted %d: the simulation does not show what the weights are for", coverUnweighted, sims, cover)
	}
}

func covers(iv *Interval, truth float64) bool {
	return iv != nil && iv.Lo <= 100*truth && 100*truth <= iv.Hi
}

// TestCalibrateTooFewLabels: a type with fewer labelled items than the
// floor is reported raw, with why, and Avg (macro) is then not
// corrected; Avg (micro) still is.
func TestCalibrateTooFewLabels(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 4))
	items := simJudged(r, 290, 0.6, 0.1376, 0.25, 0.15)
	n := 0
	for i := range items {
		if items[i].Group == eval.QuestionTypes[0] {
			if n < 3 {
				items[i].Labelled = true
			}
			n++
		} else if i%5 == 0 {
			items[i].Labelled = true
		}
	}
	cal := Calibrate(items, CalibrateOptions{})
	if !cal.AvgMicro.Valid() || cal.AvgMicroCI == nil {
		t.Fatalf("Avg (micro) not corrected: %+v", cal)
	}
	if cal.AvgMacro.Valid() {
		t.Errorf("Avg (macro) corrected (%v) though %s has 3 labelled items", cal.AvgMacro, eval.QuestionTypes[0])
	}
	for _, ct := range cal.ByType {
		if ct.QuestionType == eval.QuestionTypes[0] {
			if ct.Corrected || ct.CI != nil || ct.Accuracy.Cmp(ct.Raw) != 0 || ct.Why == "" {
				t.Errorf("the type with 3 labels: %+v, want raw only with why", ct)
			}
		} else if !ct.Corrected {
			t.Errorf("%s not corrected: %s", ct.QuestionType, ct.Why)
		}
	}
	if len(cal.Raw) != 1 {
		t.Errorf("Raw = %q, want the one type", cal.Raw)
	}
}

// TestTQuantile holds the expansion to tabled values.
func TestTQuantile(t *testing.T) {
	for _, tc := range []struct {
		df   int
		want float64
	}{{1, 12.706}, {2, 4.303}, {3, 3.182}, {5, 2.571}, {10, 2.228}, {30, 2.042}, {120, 1.980}} {
		tol := 1e-3
		if tc.df == 3 {
			tol = 4e-3
		}
		if got := tQuantile(0.975, tc.df); math.Abs(got-tc.want) > tol {
			t.Errorf("t(0.975, %d) = %.4f, want %.3f", tc.df, got, tc.want)
		}
	}
}

// TestSample: draws are seeded, without replacement, of the size asked,
// and a stratified draw gives each stratum its floor.
func TestSample(t *testing.T) {
	strata := make([]string, 1000)
	for i := range strata {
		strata[i] = "common"
		if i%50 == 0 {
			strata[i] = "rare"
		}
	}
	a, st := Sample(strata, 100, 7)
	b, _ := Sample(strata, 100, 7)
	c, _ := Sample(strata, 100, 8)
	if fmt.Sprint(a) != fmt.Sprint(b) || fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("the draw is not a function of the seed")
	}
	seen := map[int]bool{}
	for _, i := range a {
		if seen[i] {
			t.Fatalf("item %d drawn twice", i)
		}
		seen[i] = true
	}
	if len(a) != 100 {
		t.Fatalf("drew %d, want 100", len(a))
	}
	want := []Stratum{{"common", 980, 90}, {"rare", 20, 10}}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("strata %v, want %v", st, want)
	}
	u, ust := Sample(make([]string, 1000), 100, 7)
	if len(u) != 100 || len(ust) != 1 || ust[0].Weight() != 10 {
		t.Errorf("uniform draw: %d items, strata %v", len(u), ust)
	}
}

// rawSummary is the judge's own summary of items, with its cluster
// bootstrap intervals: what the run reports without labels.
func rawSummary(t *testing.T, items []CalItem, resamples int, seed uint64) *Summary {
	t.Helper()
	agg := NewAggregator(AggregateOptions{Resamples: resamples, Seed: seed})
	for _, it := range items {
		s, all := it.Judge, it.JudgeAllMet
		agg.Add(eval.Result{ID: it.ID, QuestionType: it.Group, Status: eval.StatusOK, Score: &s, AllMet: &all, Cluster: it.Cluster})
	}
	sum, err := agg.Summary()
	if err != nil {
		t.Fatal(err)
	}
	return sum
}
