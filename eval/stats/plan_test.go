package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/psveval/psveval/eval"
)

// TestPlanLabels checks the label plan against a simulation: from a
// pilot with 60 labels, the plan's n for ±3 points, used on 200 fresh
// runs of the same shape, gives a mean half-width within 10% of 3.
func TestPlanLabels(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a simulation of 200 runs: -short and -race leave it out")
	}
	r := rand.New(rand.NewPCG(26, 1))
	pilot := simJudged(r, 290, 0.6, 0.1376, 0.25, 0.15)
	labelUniform(pilot, 60, 1)
	p, err := PlanLabels(pilot, 3, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pilot ±%.2f from %d labels; need %d for ±3 (label part %.3f, judge part %.3f points²)", p.PilotHalfWidth, p.PilotLabelled, p.Need, p.LabelPart, p.JudgePart)
	if p.Need <= 60 {
		t.Fatalf("need %d labels for ±3 where 60 gave ±%.2f", p.Need, p.PilotHalfWidth)
	}
	var hw float64
	const sims = 200
	for sim := range sims {
		items := simJudged(r, 290, 0.6, 0.1376, 0.25, 0.15)
		labelUniform(items, p.Need, uint64(sim+2))
		c := Calibrate(items, CalibrateOptions{})
		hw += (c.AvgMicroCI.Hi - c.AvgMicroCI.Lo) / 2
	}
	hw /= sims
	t.Logf("with %d labels: mean half-width %.2f", p.Need, hw)
	if math.Abs(hw-3) > 0.3 {
		t.Errorf("the plan's %d labels give ±%.2f on average, want ±3 within 10%%", p.Need, hw)
	}
	if q, _ := PlanLabels(pilot, 0.01, 0.95); q.Need != 0 {
		t.Errorf("±0.01 points needs %d labels: want 0, unreachable, since the judge's part alone is wider", q.Need)
	}
}

// simPaired draws paired runs over images holding 1 to 6 items each:
// the candidate meets each criterion with the base's chance less drop,
// on the same images.
func simPaired(r *rand.Rand, images int, m, d, drop float64) (base, cand map[string]Scored) {
	base, cand = map[string]Scored{}, map[string]Scored{}
	id := 0
	for img := range images {
		p := m - d
		if r.IntN(2) == 1 {
			p = m + d
		}
		for range 1 + r.IntN(6) {
			key := fmt.Sprintf("img-%04d", img)
			for k, q := range []float64{p, p - drop} {
				met := 0
				for range 5 {
					if r.Float64() < q {
						met++
					}
				}
				s := Scored{Group: eval.QuestionTypes[0], Score: float64(met) / 5, Cluster: key}
				if k == 0 {
					base[fmt.Sprint(id)] = s
				} else {
					cand[fmt.Sprint(id)] = s
				}
			}
			id++
		}
	}
	return base, cand
}

// TestPlanItems checks the item plan against the gate itself: the plan's
// n for a drop of 5 points at power 0.8, from a paired pilot, makes the
// paired comparison flag Avg as regressed in 80% ± 6 of 400 simulated
// pairs of that size.
func TestPlanItems(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a simulation of 200 gates: -short and -race leave it out")
	}
	r := rand.New(rand.NewPCG(26, 2))
	base, cand := simPaired(r, 400, 0.6, 0.1376, 0.05)
	var diffs []float64
	var keys []string
	for id, b := range base {
		diffs = append(diffs, 100*(cand[id].Score-b.Score))
		keys = append(keys, b.Cluster)
	}
	th := Thresholds{MinN: 30, MaxDrop: 1, Alpha: 0.05}
	p, err := PlanItems(diffs, keys, true, ItemPlanOptions{Delta: 5, Power: 0.8, Alpha: th.Alpha, MaxDrop: th.MaxDrop})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pilot of %d items: SD %.1f points, design effect %.2f; need %d items (SE %.2f)", p.PilotItems, p.SD, p.DesignEffect, p.Need, p.SE)
	images := int(math.Round(float64(p.Need) / 3.5)) // 3.5 items an image on average
	const sims = 400
	flagged := 0
	for sim := range sims {
		b, c := simPaired(r, images, 0.6, 0.1376, 0.05)
		cmp := Compare(b, c, CompareOptions{Resamples: 400, Seed: uint64(sim + 1), Thresholds: th})
		for _, row := range cmp.Rows {
			if row.Group == AvgMicro && row.Regressed {
				flagged++
			}
		}
	}
	got := float64(flagged) / sims
	t.Logf("%d images (about %d items): the gate flags the drop in %.1f%% of %d pairs", images, p.Need, 100*got, sims)
	if math.Abs(got-0.8) > 0.06 {
		t.Errorf("power %.2f at the plan's n, want 0.80 ± 0.06", got)
	}
	un, err := PlanItems(diffs, keys, false, ItemPlanOptions{Delta: 5, Power: 0.8, Alpha: th.Alpha, MaxDrop: th.MaxDrop})
	if err != nil || un.Need <= p.Need {
		t.Errorf("the unpaired bound needs %d items, the paired pilot %d: want more (%v)", un.Need, p.Need, err)
	}
	if _, err := PlanItems(diffs, keys, true, ItemPlanOptions{Delta: 1, Power: 0.8, Alpha: 0.05, MaxDrop: 1}); err == nil {
		t.Error("a drop equal to --max-drop planned for: want the error that it can never reach the power")
	}
}
