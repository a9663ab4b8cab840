package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// A LabelPlan is how many labelled items bring the judge-corrected Avg
// (micro) interval to a half-width, from a pilot calibration.
type LabelPlan struct {
	// HalfWidth is the target, in points, at Level.
	HalfWidth float64 `json:"half_width"`
	Level     float64 `json:"level"`
	// PilotLabelled and PilotHalfWidth are the pilot's labels and the
	// half-width they gave; Items the run's scored items.
	PilotLabelled  int     `json:"pilot_labelled"`
	PilotHalfWidth float64 `json:"pilot_half_width"`
	Items          int     `json:"items"`
	// The pilot's variance of Avg (points²), split by how each part
	// scales: LabelPart with 1/n labelled, JudgePart (the judge's scores
	// on every item, and their covariance with the labels' residuals)
	// not at all.
	LabelPart float64 `json:"label_part"`
	JudgePart float64 `json:"judge_part"`
	Lambda    float64 `json:"lambda"`
	Quantile  float64 `json:"quantile"`
	// Need is the labelled items needed; 0 when no number reaches the
	// target (the judge's part alone is wider: more items are needed,
	// not more labels).
	Need    int    `json:"need"`
	Formula string `json:"formula"`
}

// PlanLabels answers "how many labels for ±halfWidth points" from a
// pilot: the run's items with the pilot's labels ([CalItem]). The
// corrected Avg's variance is V(n) = L·n₀/n + J, where L is the pilot's
// label part (the labelled items' residual influences, cluster-robust)
// at its n₀ labels and J the rest, which more labels do not shrink; n
// solves q·√V(n) = halfWidth, q the normal quantile at level.
func PlanLabels(items []CalItem, halfWidth, level float64) (*LabelPlan, error) {
	if level == 0 {
		level = 0.95
	}
	clusters := clusterIndex(items)
	all := make([]bool, len(items))
	for i := range all {
		all[i] = true
	}
	col := ppi(items, all, clusters, 2, func(it *CalItem) (float64, float64) { return it.Judge, it.Human })
	if !col.ok {
		return nil, fmt.Errorf("the pilot cannot calibrate: %s", col.why)
	}
	// Split each item's influence into its judge part and label part.
	judge, label := make([]float64, len(items)), make([]float64, len(items))
	var mf float64
	for _, it := range items {
		mf += it.Judge
	}
	mf /= float64(len(items))
	for i := range items {
		judge[i] = col.lambda * (items[i].Judge - mf) / float64(len(items))
		label[i] = col.infl[i] - judge[i]
	}
	total := sq(robustSE(col.infl, clusters))
	lp := sq(robustSE(label, clusters))
	p := &LabelPlan{HalfWidth: halfWidth, Level: level, PilotLabelled: col.labelled, Items: len(items),
		LabelPart: clean(1e4 * lp), JudgePart: clean(1e4 * (total - lp)), Lambda: clean(col.lambda)}
	q := normalQuantile(0.5 + level/2)
	p.Quantile = clean(q)
	p.PilotHalfWidth = clean(100 * q * math.Sqrt(total))
	room := sq(halfWidth/100/q) - (total - lp)
	if room > 0 {
		p.Need = int(math.Ceil(lp * float64(col.labelled) / room))
	}
	p.Formula = "n = L·n₀ / ((h/q)² − J), from V(n) = L·n₀/n + J, the corrected Avg's variance (cluster-robust)"
	return p, nil
}

func sq(x float64) float64 { return x * x }

// An ItemPlan is how many items a gate needs to detect a drop of Delta
// points with probability Power, from a pilot's measured spread.
type ItemPlan struct {
	Delta   float64 `json:"delta"`
	Power   float64 `json:"power"`
	Alpha   float64 `json:"alpha"`
	MaxDrop float64 `json:"max_drop"`
	// SD is the per-item SD of the paired difference, in points; Paired
	// says whether it was measured on two runs of the same items (else
	// it is √2 times one run's SD, the bound for unpaired judgements).
	SD     float64 `json:"sd"`
	Paired bool    `json:"paired"`
	// DesignEffect is the variance's inflation by items that share an
	// image; SharedSD the judge's noise shared by every item of a
	// judging (points), which the gate adds for each run.
	DesignEffect float64 `json:"design_effect"`
	SharedSD     float64 `json:"shared_sd"`
	PilotItems   int     `json:"pilot_items"`
	// SE is the standard error of Δ the power needs; Need the items that
	// give it (0: unreachable, the shared judge noise alone is wider).
	SE      float64 `json:"se"`
	Need    int     `json:"need"`
	Formula string  `json:"formula"`
}

// ItemPlanOptions are PlanItems' targets and the gate's policy.
type ItemPlanOptions struct {
	Delta, Power, Alpha, MaxDrop float64
	// SharedSD is the judge's shared noise in points (0: none).
	SharedSD float64
}

// PlanItems answers "how many items for the gate to catch a drop of Δ":
// diffs are the pilot's per-item differences in points (paired, or one
// run's scores for the unpaired bound), clusters their cluster keys. The
// gate flags Δ̂ < −max(z·SE', MaxDrop) with SE'² = SE² + 2·SharedSD² and
// z the normal quantile at 1 − α/2, so the power at a true drop Δ is
// Φ((Δ − max(z·SE', MaxDrop)) / SE'); the largest SE' with the power
// asked is found by bisection, and n = deff·SD² / (SE'² − 2·SharedSD²).
func PlanItems(diffs []float64, clusters []string, paired bool, o ItemPlanOptions) (*ItemPlan, error) {
	if len(diffs) < 2 {
		return nil, fmt.Errorf("a pilot of %d items: want at least 2", len(diffs))
	}
	var mean float64
	for _, d := range diffs {
		mean += d
	}
	mean /= float64(len(diffs))
	var v float64
	infl := make([]float64, len(diffs))
	for i, d := range diffs {
		v += (d - mean) * (d - mean)
		infl[i] = (d - mean) / float64(len(diffs))
	}
	v /= float64(len(diffs) - 1)
	if v == 0 {
		return nil, errors.New("every item of the pilot has the same difference: the runs give no spread to plan from (two judgings of one run, or a run compared with itself?)")
	}
	if !paired {
		v *= 2
	}
	p := &ItemPlan{Delta: o.Delta, Power: o.Power, Alpha: o.Alpha, MaxDrop: o.MaxDrop, Paired: paired, SharedSD: o.SharedSD, PilotItems: len(diffs)}
	p.SD = clean(math.Sqrt(v))
	p.DesignEffect = 1
	cl := make([]int, len(diffs))
	for c, m := range newClusterSet(len(diffs), func(i int) string { return clusters[i] }).members {
		for _, i := range m {
			cl[i] = c
		}
	}
	if rv := sq(robustSE(infl, cl)); v > 0 && rv > 0 {
		iid := v / float64(len(diffs))
		if !paired {
			iid /= 2
		}
		p.DesignEffect = clean(max(rv/iid, 1))
	}
	z := normalQuantile(1 - o.Alpha/2)
	power := func(se float64) float64 {
		return 0.5 * math.Erfc(-(o.Delta-math.Max(z*se, o.MaxDrop))/se/math.Sqrt2)
	}
	lo, hi := 1e-9, o.Delta // power falls as SE grows
	if power(lo) < o.Power {
		return nil, fmt.Errorf("a drop of %g points can never reach power %g: the gate needs drops beyond --max-drop %g", o.Delta, o.Power, o.MaxDrop)
	}
	for range 200 {
		mid := (lo + hi) / 2
		if power(mid) >= o.Power {
			lo = mid
		} else {
			hi = mid
		}
	}
	p.SE = clean(lo)
	if room := lo*lo - 2*sq(o.SharedSD); room > 0 {
		p.Need = int(math.Ceil(p.DesignEffect * v / room))
	}
	p.Formula = "power(SE') = Φ((Δ − max(z·SE', max-drop)) / SE'), z = Φ⁻¹(1 − α/2); n = deff·SD² / (SE'² − 2·shared²)"
	return p, nil
}

// PilotDiffs returns a pilot's per-item values for [PlanItems], in
// points, in id order, with their cluster keys: the paired differences
// cand − base over the items scored in both, or, with cand nil, base's
// scores (for the unpaired bound).
func PilotDiffs(base, cand map[string]Scored) (diffs []float64, clusters []string) {
	ids := make([]string, 0, len(base))
	for id := range base {
		if _, ok := cand[id]; ok || cand == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		b := base[id]
		if cand == nil {
			diffs, clusters = append(diffs, 100*b.Score), append(clusters, b.Cluster)
			continue
		}
		c := cand[id]
		diffs, clusters = append(diffs, 100*(c.Score-b.Score)), append(clusters, pairCluster(b, c))
	}
	return diffs, clusters
}
