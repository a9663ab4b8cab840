package stats_test

import (
	"fmt"

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
