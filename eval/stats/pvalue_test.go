package stats

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/psveval/psveval/eval"
)

// TestKappaUndefinedForConstantRaters: Cohen's κ of two raters that never
// vary is undefined, not 1, and resamples that leave the raters constant
// are left out instead of counting as perfect agreement.
func TestKappaUndefinedForConstantRaters(t *testing.T) {
	t.Parallel()
	var same, mostly []Pair
	for i := range 50 {
		id := fmt.Sprint(i)
		same = append(same, Pair{Item: id, Dim: "d", Ref: true, Got: true})
		// One disagreement in 50: most resamples leave it out, and with
		// it every variation of the judge; those draws have no κ.
		mostly = append(mostly, Pair{Item: id, Dim: "d", Ref: true, Got: i != 0})
	}
	for _, ra := range Agree(same, 500, 1) {
		if ra.Kappa != nil || ra.KappaCI != nil {
			t.Errorf("constant raters: κ %v, interval %v; want undefined", *ra.Kappa, ra.KappaCI)
		}
	}
	for _, ra := range Agree(mostly, 500, 1) {
		if ra.KappaCI != nil && ra.KappaCI.Hi == 1 {
			t.Errorf("κ's interval %+v reaches 1: draws without a disagreement counted as perfect", *ra.KappaCI)
		}
	}
}

// TestCompareRaisesResamplesNearAlpha: when a p-value lies within the
// bootstrap's error of α, Compare draws five times as many resamples.
func TestCompareRaisesResamplesNearAlpha(t *testing.T) {
	t.Parallel()
	raised := 0
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 1))
		a, b := map[string]Scored{}, map[string]Scored{}
		for i := range 300 {
			id := fmt.Sprint(i)
			a[id] = Scored{Group: eval.QuestionTypes[0], Score: float64(r.IntN(6)) / 5}
			d := 0.0
			switch u := r.Float64(); {
			case u < 0.15:
				d = -0.2
			case u < 0.30+float64(seed)/400: // a drift that grows with the seed
				d = 0.2
			}
			b[id] = Scored{Group: eval.QuestionTypes[0], Score: a[id].Score + d}
		}
		c := Compare(a, b, CompareOptions{Resamples: 1000, Seed: 1, Thresholds: Thresholds{MinN: 1, MaxDrop: 1, Alpha: 0.05}})
		switch {
		case c.Bootstrap.Raised && c.Bootstrap.Resamples != 5000:
			t.Errorf("seed %d: raised to %d resamples, want 5000", seed, c.Bootstrap.Resamples)
		case c.Bootstrap.Raised:
			raised++
		case c.nearAlpha():
			t.Errorf("seed %d: a p-value near α, and the resamples were not raised", seed)
		}
	}
	if raised == 0 {
		t.Error("no comparison of 40 came near α: the test proves nothing")
	}
}
