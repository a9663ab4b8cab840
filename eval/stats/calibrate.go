package stats

import (
	"fmt"
	"math"
	"slices"

	"github.com/psveval/psveval/eval"
)

// A CalItem is one scored item of a run for judge-corrected accuracy
// ([Calibrate]): the judge's score, and, when a person labelled every
// criterion of the item, the score the same rule gives the labels.
type CalItem struct {
	ID, Group, Cluster string
	// Judge is the judge's item score in [0, 1]; JudgeAllMet whether the
	// judge found every criterion met.
	Judge       float64
	JudgeAllMet bool
	// Labelled marks an item of the labelled sample; Human and
	// HumanAllMet are then the labels' score and all-met.
	Labelled    bool
	Human       float64
	HumanAllMet bool
	// Weight is the labelled item's design weight, 1/π, its stratum's
	// items over its stratum's draws (0 counts as 1: a uniform draw).
	Weight float64
}

// CalibrateOptions configure [Calibrate].
type CalibrateOptions struct {
	// Level is the intervals' confidence level (0: 0.95).
	Level float64
	// MinLabelled is the fewest labelled items a column needs to be
	// corrected (0: DefaultMinLabelled); a column with fewer is reported
	// raw only.
	MinLabelled int
	// Design says how the labelled items were drawn, for the record.
	Design string
}

// DefaultMinLabelled is the fewest labelled items, in at least two
// clusters, that a column is corrected from.
const DefaultMinLabelled = 10

// CalibrationMethod names the estimator, for reports and summary.json.
const CalibrationMethod = "PPI++ (prediction-powered inference, power-tuned λ clipped to [0,1]): judge mean over all scored items plus the design-weighted mean residual of the labelled items; interval from the cluster-robust linearised variance, Student t with labelled clusters − 1 degrees of freedom"

// A Calibrated is a run's judge-corrected accuracy: what the people who
// labelled the sample would have marked, estimated from the judge's
// marks on every item and the labels on a random sample (Angelopoulos et
// al., Science 2023; PPI++, arXiv:2311.01453). Accuracies and interval
// ends are percentages.
type Calibrated struct {
	Method     string    `json:"method"`
	Design     string    `json:"design"`
	Level      float64   `json:"level"`
	NLabelled  int       `json:"n_labelled"`
	NClusters  int       `json:"n_labelled_clusters"`
	AvgMicro   Pct       `json:"avg_micro"`
	AvgMicroCI *Interval `json:"avg_micro_ci,omitempty"`
	AvgMacro   Pct       `json:"avg_macro"`
	AvgMacroCI *Interval `json:"avg_macro_ci,omitempty"`
	AllMet     Pct       `json:"all_met"`
	AllMetCI   *Interval `json:"all_met_ci,omitempty"`
	// Lambda is the power-tuning weight of the judge's scores in Avg
	// (micro): 0 trusts the labels alone, 1 the judge's ranking fully.
	Lambda float64          `json:"lambda"`
	ByType []CalibratedType `json:"by_type"`
	// Raw lists the groups reported raw only, each with why.
	Raw []string `json:"uncorrected,omitempty"`
	// Warnings are what a reader of the estimate must know: labels not
	// from a recorded draw, drawn items left unlabelled.
	Warnings []string `json:"warnings,omitempty"`
}

// A CalibratedType is one group's judge-corrected accuracy, or its raw
// accuracy when Corrected is false.
type CalibratedType struct {
	QuestionType string    `json:"question_type"`
	Corrected    bool      `json:"corrected"`
	Accuracy     Pct       `json:"accuracy"`
	CI           *Interval `json:"ci,omitempty"`
	Raw          Pct       `json:"raw"`
	NLabelled    int       `json:"n_labelled"`
	Lambda       float64   `json:"lambda"`
	Why          string    `json:"why,omitempty"`
}

// A ppiColumn is one column's estimate, with each item's influence on it
// (zero for items outside the column), from which intervals of the
// column and of averages of columns come.
type ppiColumn struct {
	est, lambda float64
	// df is the column's labelled clusters less one: the degrees of
	// freedom of its interval.
	df       int
	infl     []float64
	labelled int
	ok       bool
	why      string
}

// Calibrate estimates each group's accuracy, Avg (micro and macro) and
// the all-met rate as the labellers would have marked them, by PPI++.
// items are the run's scored items; the labelled ones must be a random
// sample (uniform, or stratified with Weight = 1/π). A group with fewer
// than MinLabelled labelled items, or all of them in one cluster, is
// reported raw, and then Avg (macro) is not corrected either.
func Calibrate(items []CalItem, opts CalibrateOptions) *Calibrated {
	if opts.Level == 0 {
		opts.Level = 0.95
	}
	if opts.MinLabelled <= 0 {
		opts.MinLabelled = DefaultMinLabelled
	}
	cal := &Calibrated{Method: CalibrationMethod, Design: opts.Design, Level: opts.Level, ByType: []CalibratedType{}}
	clusters := clusterIndex(items)
	all := make([]bool, len(items))
	for i := range items {
		all[i] = true
	}
	labelledClusters := map[int]bool{}
	for i, it := range items {
		if it.Labelled {
			cal.NLabelled++
			labelledClusters[clusters[i]] = true
		}
	}
	cal.NClusters = len(labelledClusters)
	score := func(it *CalItem) (float64, float64) { return it.Judge, it.Human }
	allMet := func(it *CalItem) (float64, float64) { return b2f(it.JudgeAllMet), b2f(it.HumanAllMet) }

	micro := ppi(items, all, clusters, opts.MinLabelled, score)
	cal.Lambda = clean(micro.lambda)
	if micro.ok {
		cal.AvgMicro, cal.AvgMicroCI = pctOfFloat(micro.est), tInterval(micro.est, micro.infl, clusters, micro.df, opts.Level)
	}
	met := ppi(items, all, clusters, opts.MinLabelled, allMet)
	if met.ok {
		cal.AllMet, cal.AllMetCI = pctOfFloat(met.est), tInterval(met.est, met.infl, clusters, met.df, opts.Level)
	}

	var groups []string
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.Group] {
			seen[it.Group] = true
			groups = append(groups, it.Group)
		}
	}
	slices.SortStableFunc(groups, eval.TypeOrder)
	macroOK := len(groups) > 0
	macroInfl := make([]float64, len(items))
	var macro float64
	for _, g := range groups {
		in := make([]bool, len(items))
		var raw float64
		n := 0
		for i, it := range items {
			if it.Group == g {
				in[i] = true
				raw += it.Judge
				n++
			}
		}
		col := ppi(items, in, clusters, opts.MinLabelled, score)
		ct := CalibratedType{QuestionType: g, Raw: pctOfFloat(raw / float64(n)), NLabelled: col.labelled, Lambda: clean(col.lambda)}
		if !col.ok {
			ct.Accuracy, ct.Why = ct.Raw, col.why
			cal.Raw = append(cal.Raw, g+": "+col.why)
			macroOK = false
		} else {
			ct.Corrected = true
			ct.Accuracy, ct.CI = pctOfFloat(col.est), tInterval(col.est, col.infl, clusters, col.df, opts.Level)
			macro += col.est / float64(len(groups))
			for i, v := range col.infl {
				macroInfl[i] += v / float64(len(groups))
			}
		}
		cal.ByType = append(cal.ByType, ct)
	}
	if macroOK {
		cal.AvgMacro, cal.AvgMacroCI = pctOfFloat(macro), tInterval(macro, macroInfl, clusters, cal.NClusters-1, opts.Level)
	}
	return cal
}

// ppi estimates the mean human score over the items in column by PPI++:
//
//	θ = λ·mean(f over the column) + Σ w(y − λf) / Σ w  (over its labelled items)
//
// with λ = cov_w(y, f) / var_w(f) over the labelled items (the
// variance-minimising weight when they are a random part of the column),
// clipped to [0, 1]. It returns each
// item's influence on θ, so that the variance is the cluster-robust sum
// of squares of the clusters' total influences.
func ppi(items []CalItem, in []bool, clusters []int, minLabelled int, xy func(*CalItem) (f, y float64)) ppiColumn {
	var col ppiColumn
	var n, nl int
	var sf, sw, swf, swy float64
	lc := map[int]bool{}
	for i := range items {
		if !in[i] {
			continue
		}
		f, y := xy(&items[i])
		n++
		sf += f
		if items[i].Labelled {
			w := weight(&items[i])
			nl++
			lc[clusters[i]] = true
			sw += w
			swf += w * f
			swy += w * y
		}
	}
	col.labelled, col.df = nl, len(lc)-1
	switch {
	case nl < minLabelled:
		col.why = fmt.Sprintf("%d labelled items, fewer than the %d a correction needs", nl, minLabelled)
		return col
	case len(lc) < 2:
		col.why = "its labelled items are all in one cluster (one image)"
		return col
	}
	mf := sf / float64(n)
	lf, ly := swf/sw, swy/sw
	var varF, cov float64
	for i := range items {
		if in[i] && items[i].Labelled {
			f, y := xy(&items[i])
			w := weight(&items[i])
			varF += w * (f - lf) * (f - lf)
			cov += w * (y - ly) * (f - lf)
		}
	}
	if varF > 0 {
		col.lambda = min(max(cov/varF, 0), 1)
	}
	lam := col.lambda
	resid := ly - lam*lf
	col.est = lam*mf + resid
	col.infl = make([]float64, len(items))
	for i := range items {
		if !in[i] {
			continue
		}
		f, y := xy(&items[i])
		v := lam * (f - mf) / float64(n)
		if items[i].Labelled {
			v += weight(&items[i]) * (y - lam*f - resid) / sw
		}
		col.infl[i] = v
	}
	col.ok = true
	return col
}

func weight(it *CalItem) float64 {
	if it.Weight > 0 {
		return it.Weight
	}
	return 1
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// clusterIndex numbers the items' clusters ("" is a cluster of its own).
func clusterIndex(items []CalItem) []int {
	cs := newClusterSet(len(items), func(i int) string { return items[i].Cluster })
	out := make([]int, len(items))
	for c, m := range cs.members {
		for _, i := range m {
			out[i] = c
		}
	}
	return out
}

// tInterval is est ± t·se in percent, clipped to [0, 100], where se² is
// the cluster-robust variance C/(C−1)·Σ_c (Σ_{i∈c} infl_i)² over the C
// clusters that hold any influence, and t Student's quantile with df
// degrees of freedom. It is nil when df < 1.
func tInterval(est float64, infl []float64, clusters []int, df int, level float64) *Interval {
	if df < 1 {
		return nil
	}
	se := robustSE(infl, clusters)
	q := tQuantile(0.5+level/2, df)
	iv := Interval{Lo: max(est-q*se, 0), Hi: min(est+q*se, 1)}.percent()
	return &iv
}

// robustSE is the cluster-robust standard error of a sum of influences.
func robustSE(infl []float64, clusters []int) float64 {
	tot := map[int]float64{}
	for i, v := range infl {
		if v != 0 {
			tot[clusters[i]] += v
		}
	}
	c := float64(len(tot))
	if c < 2 {
		return 0
	}
	var ss float64
	for _, v := range tot {
		ss += v * v
	}
	return math.Sqrt(ss * c / (c - 1))
}

// tQuantile is Student's t quantile: exact for 1 and 2 degrees of
// freedom, else the Cornish–Fisher expansion about the normal quantile
// (Abramowitz & Stegun 26.7.5): within 4e-3 of the 97.5% point at 3
// degrees of freedom, 1e-3 from 5.
func tQuantile(p float64, df int) float64 {
	switch df {
	case 1:
		return math.Tan(math.Pi * (p - 0.5))
	case 2:
		return (2*p - 1) / math.Sqrt(2*p*(1-p))
	}
	z := normalQuantile(p)
	v := float64(df)
	z2 := z * z
	g1 := (z2 + 1) * z / 4
	g2 := ((5*z2+16)*z2 + 3) * z / 96
	g3 := (((3*z2+19)*z2+17)*z2 - 15) * z / 384
	g4 := ((((79*z2+776)*z2+1482)*z2-1920)*z2 - 945) * z / 92160
	return z + g1/v + g2/(v*v) + g3/(v*v*v) + g4/(v*v*v*v)
}

// pctOfFloat is a proportion in [0, 1] as a percentage, rounded to 9
// decimals as intervals are.
func pctOfFloat(x float64) Pct {
	return MustPct(fmt.Sprintf("%.9f", 100*x))
}
