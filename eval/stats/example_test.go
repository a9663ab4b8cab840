package stats_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/stats"
)

// Gate a candidate whose items score lower than the baseline's, on Avg
// (micro), as psveval gate does, and read the decision.
func ExampleGate() {
	side := func(name string, p float64) stats.GateRun {
		agg := stats.NewAggregator(stats.AggregateOptions{Resamples: -1})
		scores := map[string]stats.Scored{}
		for _, r := range evaltest.RandomResults(100, p, 7) {
			agg.Add(r)
			scores[r.ID] = stats.Scored{Group: agg.GroupOf(&r), Score: *r.Score}
		}
		s, _ := agg.Summary()
		return stats.GateRun{Name: name, Summary: s, Scores: scores}
	}
	policy := stats.GatePolicy{
		Compare:      stats.CompareOptions{Resamples: 2000, Seed: stats.DefaultSeed, Thresholds: stats.DefaultThresholds},
		Types:        "avg",
		MaxErrorRate: 0.01,
	}
	d, err := stats.Gate(side("base", 0.7), side("candidate", 0.5), policy)
	if err != nil {
		fmt.Println("cannot decide:", err)
		return
	}
	for _, r := range d.Regressed {
		fmt.Printf("%s regressed: %s points\n", r.Group, stats.FormatSigned(r.Delta, 1))
	}
	fmt.Println("failed:", d.Failed())
	// Output:
	// Avg (micro) regressed: -20.8 points
	// failed: true
}

// Correct a judge that misses met criteria with labels on a random fifth
// of the items, as psveval report --calibrate does: the judge reports
// less than the labellers would have marked.
func ExampleCalibrate() {
	r := rand.New(rand.NewPCG(1, 2))
	var items []stats.CalItem
	var judged float64
	for i := range 1000 {
		human := r.Float64() < 0.7
		judge := human
		if human && r.Float64() < 0.3 || !human && r.Float64() < 0.1 {
			judge = !judge
		}
		it := stats.CalItem{ID: fmt.Sprint(i), Group: "Visual Perception", Labelled: r.IntN(5) == 0}
		if judge {
			it.Judge, it.JudgeAllMet = 1, true
			judged++
		}
		if human {
			it.Human, it.HumanAllMet = 1, true
		}
		items = append(items, it)
	}
	c := stats.Calibrate(items, stats.CalibrateOptions{Design: "a uniform random fifth"})
	fmt.Printf("judge %.1f; corrected %s [%s, %s] from %d labels\n", judged/10, c.AvgMicro.Format(1),
		stats.FormatFloat(c.AvgMicroCI.Lo, 1), stats.FormatFloat(c.AvgMicroCI.Hi, 1), c.NLabelled)
	// Output:
	// judge 53.5; corrected 73.0 [67.7, 78.3] from 199 labels
}
