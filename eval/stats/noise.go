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
	// JudgeSD is the standard deviation of the accuracy across repeats,
	// in points: the judge's noise alone.
	JudgeSD float64 `json:"judge_sd"`
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
// items are left out of that dimension), and sums[k] its summary.
func Noise(items []string, verdicts []map[string]map[string]*bool, sums []*Summary) *JudgeNoise {
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
	column := func(group string, pick func(*Summary) (Pct, *Interval)) {
		var xs []float64
		var iv *Interval
		for r, s := range sums {
			v, ci := pick(s)
			if !v.Valid() {
				return
			}
			xs = append(xs, v.Float64())
			if r == 0 {
				iv = ci
			}
		}
		var mean, ss float64
		for _, x := range xs {
			mean += x / float64(len(xs))
		}
		for _, x := range xs {
			ss += (x - mean) * (x - mean)
		}
		sd := math.Sqrt(ss / float64(len(xs)-1))
		c := ColumnNoise{Group: group, JudgeSD: clean(sd), MinDetectable: clean(1.96 * math.Sqrt2 * sd)}
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
		})
	}
	column("Avg (micro)", func(s *Summary) (Pct, *Interval) { return s.AvgMicro, s.AvgMicroCI })
	column("Avg (macro)", func(s *Summary) (Pct, *Interval) { return s.AvgMacro, s.AvgMacroCI })
	return n
}

// AddJudgeNoise widens c by the judge's own noise: each run was judged
// once, so a row's difference carries, besides the sampling spread the
// paired bootstrap measured, twice the variance of one judging (sd, in
// points, per group as JudgeNoise gives it). The interval becomes
// Δ ± √(h² + (z·√2·sd)²), where h is the bootstrap half-width; p is read
// from the normal with that spread; Significant and Regressed are decided
// again from them. Groups without an sd are left as they are. It reports
// the groups widened.
func (c *Comparison) AddJudgeNoise(sd map[string]float64) []string {
	t := c.Thresholds
	z := normalQuantile(1 - t.Alpha/2)
	var widened []string
	for i := range c.Rows {
		r := &c.Rows[i]
		s, ok := sd[r.Group]
		if !ok {
			continue
		}
		d := r.Delta.Float64()
		h := math.Max(d-r.CI.Lo, r.CI.Hi-d)
		hw := math.Sqrt(h*h + 2*z*z*s*s)
		r.CI = Interval{Lo: clean(d - hw), Hi: clean(d + hw)}
		se := hw / z
		if se > 0 {
			r.P = clean(math.Erfc(math.Abs(d) / se / math.Sqrt2))
		}
		r.Significant = r.P < t.Alpha && (r.CI.Lo > 0 || r.CI.Hi < 0)
		r.Regressed = r.Significant && !r.Small && r.Delta.Cmp(maxDropPct(t.MaxDrop).Neg()) < 0
		widened = append(widened, r.Group)
	}
	return widened
}

// normalQuantile returns the standard normal's quantile at q.
func normalQuantile(q float64) float64 { return math.Sqrt2 * math.Erfinv(2*q-1) }

// SD returns the judge's SD in points by column, for [GatePolicy].JudgeSD.
func (n *JudgeNoise) SD() map[string]float64 {
	sd := map[string]float64{}
	for _, col := range n.Columns {
		sd[col.Group] = col.JudgeSD
	}
	return sd
}
