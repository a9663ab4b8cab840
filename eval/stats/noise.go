package stats

import (
	"math"
	"slices"
)

// JudgeNoise is what judging the same answers K times shows about the
// judge alone: how often each criterion's verdict changes between
// repeats, and how much each column's accuracy moves.
type JudgeNoise struct {
	Repeats  int              `json:"repeats"`
	Criteria []CriterionNoise `json:"criteria"`
	Columns  []ColumnNoise    `json:"columns"`
}

// CriterionNoise is one rubric dimension's stability across repeats.
type CriterionNoise struct {
	Dim   string `json:"dim"`
	Items int    `json:"items"`
	// Changed is the share of items, in percent, whose verdict is not the
	// same in every repeat.
	Changed float64 `json:"changed"`
	// Kappa is Fleiss' κ with the repeats as raters (nil: undefined).
	Kappa *float64 `json:"fleiss_kappa"`
}

// ColumnNoise is one column's (a group, Avg micro or macro) accuracy
// spread across repeats, beside its spread from sampling items.
type ColumnNoise struct {
	Group string `json:"group"`
	// JudgeSD is the standard deviation of one judging's accuracy from
	// the judge's noise alone, in points, pooled from the items: each
	// cluster's (each item's, when none share an image) score summed over
	// the column's items varies across the repeats; the variances add up
	// over clusters: JudgeSD = 100·√(Σ_c s²_c)/n, with K−1 degrees of
	// freedom from every cluster, not K−1 in all.
	JudgeSD float64 `json:"judge_sd"`
	// SharedSD is the part of the judge's noise that moves every item
	// together (a shift of the whole judging: version drift, a prompt's
	// mood), in points: the spread of the repeats' accuracies beyond what
	// the items' own noise explains, taken only where a χ² test at 99%
	// finds it, else 0. It is what a
	// paired comparison of two judgings cannot see (see AddJudgeNoise).
	SharedSD float64 `json:"shared_sd"`
	// SamplingSD is the first repeat's bootstrap standard error, in
	// points, read off its 95% interval (width / 3.92).
	SamplingSD *float64 `json:"sampling_sd,omitempty"`
	// MinDetectable is the smallest difference between two judgings of
	// the same answers that the judge's noise alone exceeds with
	// probability under 5%: 1.96·√2·JudgeSD.
	MinDetectable float64 `json:"min_detectable"`
}

// Noise measures a judge from K ≥ 2 judgings of the same answers:
// verdicts[k][item][dim] is repeat k's verdict (nil: unscorable; such
// items are left out of that dimension), sums[k] its summary and
// scores[k] its scored items (with their groups and clusters).
func Noise(items []string, verdicts []map[string]map[string]*bool, sums []*Summary, scores []map[string]Scored) *JudgeNoise {
	k := len(verdicts)
	n := &JudgeNoise{Repeats: k}
	var dims []string
	seen := map[string]bool{}
	for _, id := range items {
		for d := range verdicts[0][id] {
			if !seen[d] {
				seen[d] = true
				dims = append(dims, d)
			}
		}
	}
	slices.Sort(dims)
	for _, d := range dims {
		var yes []int
		changed := 0
		for _, id := range items {
			y, ok := 0, true
			for r := range k {
				m := verdicts[r][id][d]
				if m == nil {
					ok = false
					break
				}
				if *m {
					y++
				}
			}
			if !ok {
				continue
			}
			yes = append(yes, y)
			if y != 0 && y != k {
				changed++
			}
		}
		cn := CriterionNoise{Dim: d, Items: len(yes)}
		if len(yes) > 0 {
			cn.Changed = clean(100 * float64(changed) / float64(len(yes)))
		}
		if kappa := fleissKappa(yes, k); !math.IsNaN(kappa) {
			kappa = clean(kappa)
			cn.Kappa = &kappa
		}
		n.Criteria = append(n.Criteria, cn)
	}
	// The items scored in every repeat, in id order, with their weights
	// in each column (a group's mean, micro, macro).
	var ids []string
	for id := range scores[0] {
		all := true
		for _, sc := range scores[1:] {
			if _, ok := sc[id]; !ok {
				all = false
				break
			}
		}
		if all {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	perGroup := map[string]int{}
	for _, id := range ids {
		perGroup[scores[0][id].Group]++
	}
	column := func(group string, pick func(*Summary) (Pct, *Interval), weight func(Scored) float64) {
		var iv *Interval
		for r, s := range sums {
			v, ci := pick(s)
			if !v.Valid() {
				return
			}
			if r == 0 {
				iv = ci
			}
		}
		judge, shared := pooledNoise(ids, scores, weight)
		c := ColumnNoise{Group: group, JudgeSD: clean(judge), SharedSD: clean(shared), MinDetectable: clean(1.96 * math.Sqrt2 * judge)}
		if iv != nil {
			s := clean((iv.Hi - iv.Lo) / 3.92)
			c.SamplingSD = &s
		}
		n.Columns = append(n.Columns, c)
	}
	for _, ts := range sums[0].ByType {
		g := ts.QuestionType
		column(g, func(s *Summary) (Pct, *Interval) {
			for _, t := range s.ByType {
				if t.QuestionType == g {
					return t.Accuracy, t.CI
				}
			}
			return Pct{}, nil
		}, func(sc Scored) float64 {
			if sc.Group != g {
				return 0
			}
			return 1 / float64(perGroup[g])
		})
	}
	column(AvgMicro, func(s *Summary) (Pct, *Interval) { return s.AvgMicro, s.AvgMicroCI },
		func(Scored) float64 { return 1 / float64(len(ids)) })
	column(AvgMacro, func(s *Summary) (Pct, *Interval) { return s.AvgMacro, s.AvgMacroCI },
		func(sc Scored) float64 { return 1 / float64(len(perGroup)*perGroup[sc.Group]) })
	return n
}

// pooledNoise returns, in points, the judge's SD of a column that is the
// weighted sum Σ w_i·x_i of the items' scores, pooled over clusters, and
// the SD of a shift shared by every item: with S_ck = Σ_{i∈c} w_i·x_ik,
// judge = 100·√(Σ_c var_k S_ck), and shared = 100·√(var_k Σ_c S_ck −
// Σ_c var_k S_ck). The repeats' spread var_k Σ_c S_ck has only K−1
// degrees of freedom, so a shared shift is taken as there only when that
// spread exceeds what the items' own noise explains at the 99% level
// (a χ² test with K−1 degrees of freedom: with eight columns, a judge
// without a shared shift gets one in some column by chance one time in
// twelve); else shared is 0.
func pooledNoise(ids []string, scores []map[string]Scored, weight func(Scored) float64) (judge, shared float64) {
	k := len(scores)
	if k < 2 || len(ids) == 0 {
		return 0, 0
	}
	cluster := map[string][]float64{} // S_c per repeat
	var order []string
	for _, id := range ids {
		key := scores[0][id].Cluster
		if key == "" {
			key = "\x00" + id
		}
		sc, ok := cluster[key]
		if !ok {
			sc = make([]float64, k)
			order = append(order, key)
		}
		for r := range k {
			sc[r] += weight(scores[r][id]) * scores[r][id].Score
		}
		cluster[key] = sc
	}
	total := make([]float64, k)
	var within float64
	for _, key := range order {
		sc := cluster[key]
		within += variance(sc)
		for r := range k {
			total[r] += sc[r]
		}
	}
	judge = 100 * math.Sqrt(within)
	if v := variance(total); v > within*chi2Quantile99(k-1)/float64(k-1) {
		shared = 100 * math.Sqrt(v-within)
	}
	return judge, shared
}

// chi2Quantile99 is the 99% quantile of χ² with df degrees of freedom,
// by Wilson and Hilferty's approximation (within 2% from df 2 on).
func chi2Quantile99(df int) float64 {
	d := float64(df)
	x := 1 - 2/(9*d) + 2.3263478740408408*math.Sqrt(2/(9*d))
	return d * x * x * x
}

// SharedSD returns the judge's shared SD in points by column, for
// [GatePolicy].JudgeSD.
func (n *JudgeNoise) SharedSD() map[string]float64 {
	sd := map[string]float64{}
	for _, col := range n.Columns {
		sd[col.Group] = col.SharedSD
	}
	return sd
}

// AddJudgeNoise widens c by the judge's noise that a paired comparison
// cannot see. Two runs judged separately each carry the judge's noise.
// The part that is independent from item to item is in the paired
// bootstrap already: it resamples the items' differences, noise and all,
// and adding it again would count it twice. What the bootstrap cannot
// see is a shift shared by every item of one judging (sd, in points per
// group: [ColumnNoise].SharedSD), which differs between the two
// judgings: a row's interval becomes Δ ± √(h² + 2·(z·sd)²), h being the
// bootstrap's half-width on each side, and its p the larger of the
// bootstrap's and the normal's with that spread, so adding noise never
// makes a difference more significant. Significant and Regressed are
// decided again. Rows without a positive sd are left as they are. It
// reports the groups widened.
func (c *Comparison) AddJudgeNoise(sd map[string]float64) []string {
	t := c.Thresholds
	z := normalQuantile(1 - t.Alpha/2)
	var widened []string
	for i := range c.Rows {
		r := &c.Rows[i]
		s, ok := sd[r.Group]
		if !ok || !(s > 0) {
			continue
		}
		d := r.Delta.Float64()
		add := 2 * z * z * s * s
		lo, hi := d-r.CI.Lo, r.CI.Hi-d
		r.CI = Interval{Lo: clean(d - math.Sqrt(lo*lo+add)), Hi: clean(d + math.Sqrt(hi*hi+add))}
		if se := math.Max(d-r.CI.Lo, r.CI.Hi-d) / z; se > 0 {
			r.P = math.Max(r.P, clean(math.Erfc(math.Abs(d)/se/math.Sqrt2)))
		}
		r.Significant = r.P < t.Alpha && (r.CI.Lo > 0 || r.CI.Hi < 0)
		r.Regressed = r.Significant && !r.Small && r.Delta.Cmp(maxDropPct(t.MaxDrop).Neg()) < 0
		widened = append(widened, r.Group)
	}
	return widened
}

// normalQuantile returns the standard normal's quantile at q.
func normalQuantile(q float64) float64 { return math.Sqrt2 * math.Erfinv(2*q-1) }
