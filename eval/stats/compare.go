package stats

import (
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/psveval/psveval/eval"
)

// Thresholds configure comparisons and gates.
type Thresholds struct {
	// MinN is the fewest paired items for a group to be gated; smaller
	// groups are compared with a warning and never gated. At least 1.
	MinN int `json:"min_n"`
	// MaxDrop is the largest drop, in accuracy points, that a gate lets
	// pass however significant. At least 0.
	MaxDrop float64 `json:"max_drop"`
	// Alpha is the significance level, in (0, 1). Intervals are at level
	// 1 - Alpha, so that an interval excludes 0 exactly when p < Alpha.
	Alpha float64 `json:"alpha"`
}

// DefaultThresholds are used where none are given.
var DefaultThresholds = Thresholds{MinN: 30, MaxDrop: 1.0, Alpha: 0.05}

// Names of the average rows of a comparison.
const (
	AvgMicro = "Avg (micro)"
	AvgMacro = "Avg (macro)"
)

// CompareOptions configure [Compare].
type CompareOptions struct {
	// By groups items as in [AggregateOptions].
	By         string
	Resamples  int
	Seed       uint64
	Thresholds Thresholds
}

// A Comparison compares a candidate run with a baseline item by item.
type Comparison struct {
	// Rows holds one row per group, in TypeOrder, then AvgMicro and
	// AvgMacro.
	Rows []CompareRow `json:"rows"`
	// Paired counts items scored in both runs; OnlyBase and OnlyCand the
	// items scored in one run only (left out of every row).
	Paired   int `json:"paired"`
	OnlyBase int `json:"only_base"`
	OnlyCand int `json:"only_candidate"`
	// Improved and Worsened count paired items whose score rose or fell.
	Improved   int           `json:"improved"`
	Worsened   int           `json:"worsened"`
	Thresholds Thresholds    `json:"thresholds"`
	Bootstrap  BootstrapInfo `json:"bootstrap"`
	// MacroRefused says why the comparison has no Avg (macro) row: the
	// runs' macros average over different groups, which compares two
	// different things.
	MacroRefused string `json:"macro_refused,omitempty"`
}

// A CompareRow compares one group, or an average.
type CompareRow struct {
	Group string `json:"group"`
	// N is the paired items of the group.
	N int `json:"n"`
	// Base and Cand are the exact accuracies over the paired items; Delta
	// is Cand - Base, in points, with a paired bootstrap interval CI at
	// level 1 - Alpha and the two-sided p-value inverted from the same
	// replicates: CI excludes 0 exactly when P < Alpha.
	Base  Pct      `json:"base"`
	Cand  Pct      `json:"candidate"`
	Delta Pct      `json:"delta"`
	CI    Interval `json:"ci"`
	P     float64  `json:"p"`
	// Significant is P < Alpha. Regressed is a significant drop larger
	// than MaxDrop in a group of at least MinN items: what a gate fails on.
	Significant bool `json:"significant"`
	Regressed   bool `json:"regressed"`
	// Small marks a group under MinN: reported, never gated.
	Small bool `json:"small,omitempty"`
}

// A Scored is one item's score in one run, the unit a comparison pairs,
// with its group and its cluster key ("" for a cluster of its own).
type Scored struct {
	Group   string
	Score   float64
	Cluster string
}

// pairCluster is the cluster key of an item paired across two runs: the
// runs' common key, or the one that has a key (a run made before keys
// were recorded has none), the lesser when they differ, so the key is
// the same whichever run is the base.
func pairCluster(a, b Scored) string {
	switch {
	case a.Cluster == "":
		return b.Cluster
	case b.Cluster == "":
		return a.Cluster
	}
	return min(a.Cluster, b.Cluster)
}

// Compare pairs base and cand by item id, over the items scored in both.
//
// Every number comes from one paired procedure: a bootstrap over clusters
// of paired items (items sharing an image resample together; see
// [Scored]), every column recomputed from the same draw, whose
// replicates give both the interval and the p-value. Its randomness is
// tied to the items, not to the order of the arguments: items are visited
// in id order and the sampler draws the same clusters whichever run is
// the base, so Compare(cand, base) is Compare(base, cand) with every
// difference and interval negated exactly and every p-value equal.
func Compare(base, cand map[string]Scored, opts CompareOptions) *Comparison {
	if opts.Resamples <= 0 {
		opts.Resamples = DefaultResamples
	}
	c := compare(base, cand, opts)
	// A p-value within the bootstrap's own error of α could fall either
	// side of it: draw five times as many resamples, once, so a gate's
	// decision does not hang on the draw.
	if c.nearAlpha() && opts.Resamples < maxAdaptiveResamples {
		opts.Resamples = min(5*opts.Resamples, maxAdaptiveResamples)
		c = compare(base, cand, opts)
		c.Bootstrap.Raised = true
	}
	return c
}

// maxAdaptiveResamples caps the resamples Compare raises to near α.
const maxAdaptiveResamples = 50_000

// nearAlpha reports whether a gateable row's p lies within two Monte
// Carlo standard errors of α.
func (c *Comparison) nearAlpha() bool {
	a, b := c.Thresholds.Alpha, float64(c.Bootstrap.Resamples)
	se := math.Sqrt(a * (1 - a) / b)
	for _, r := range c.Rows {
		if !r.Small && math.Abs(r.P-a) < 2*se {
			return true
		}
	}
	return false
}

func compare(base, cand map[string]Scored, opts CompareOptions) *Comparison {
	if opts.Resamples <= 0 {
		opts.Resamples = DefaultResamples
	}
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	if opts.Thresholds == (Thresholds{}) {
		opts.Thresholds = DefaultThresholds
	}
	t := opts.Thresholds
	c := &Comparison{Thresholds: t, Bootstrap: BootstrapInfo{
		Resamples: opts.Resamples, Seed: opts.Seed, Level: 1 - t.Alpha,
		Method: "paired bootstrap over clusters of items (items sharing an image resample together), every column from the same draw; the interval is its percentile interval at level 1-alpha and p is inverted from it",
	}}
	type pairs struct {
		n          int
		base, cand exactSum // exact sums of the scores
	}
	byGroup := map[string]*pairs{}
	var d []float64 // 100·(cand - base), in id order
	var dGroup, dCluster []string
	for _, id := range slices.Sorted(maps.Keys(base)) {
		b := base[id]
		k, ok := cand[id]
		if !ok {
			c.OnlyBase++
			continue
		}
		c.Paired++
		g := min(b.Group, k.Group) // the same whichever run is the base
		p := byGroup[g]
		if p == nil {
			p = &pairs{}
			byGroup[g] = p
		}
		switch {
		case k.Score > b.Score:
			c.Improved++
		case k.Score < b.Score:
			c.Worsened++
		}
		p.n++
		d = append(d, 100*(k.Score-b.Score))
		dGroup, dCluster = append(dGroup, g), append(dCluster, pairCluster(b, k))
		p.base.add(b.Score)
		p.cand.add(k.Score)
	}
	for id := range cand {
		if _, ok := base[id]; !ok {
			c.OnlyCand++
		}
	}
	groups := slices.SortedFunc(maps.Keys(byGroup), eval.TypeOrder)
	gi := make(map[string]int, len(groups))
	for i, g := range groups {
		gi[g] = i
	}
	group := make([]int, len(d))
	for i, g := range dGroup {
		group[i] = gi[g]
	}
	cs := newClusterSet(len(d), func(i int) string { return dCluster[i] })
	if !cs.singletons() {
		c.Bootstrap.Clusters = len(cs.members)
	}
	boot := cs.columnReps(d, group, len(groups), opts.Resamples, opts.Seed, 0)
	var baseAll, candAll, baseMacro, candMacro big.Rat
	for i, g := range groups {
		p := byGroup[g]
		n := new(big.Rat).SetInt64(int64(p.n))
		bs, cs := p.base.rat(), p.cand.rat()
		baseAll.Add(&baseAll, bs)
		candAll.Add(&candAll, cs)
		bm := bs.Quo(bs, n)
		cm := cs.Quo(cs, n)
		baseMacro.Add(&baseMacro, bm)
		candMacro.Add(&candMacro, cm)
		row := CompareRow{Group: g, N: p.n, Base: pctRat(bm), Cand: pctRat(cm)}
		c.finish(&row, boot[i])
		c.Rows = append(c.Rows, row)
	}
	if c.Paired == 0 {
		return c
	}
	// Averages: micro weights items (groups by their size), macro weights
	// groups equally; both from the same per-group replicates.
	np := new(big.Rat).SetInt64(int64(c.Paired))
	ng := new(big.Rat).SetInt64(int64(len(groups)))
	micro := CompareRow{Group: AvgMicro, N: c.Paired, Base: pctRat(baseAll.Quo(&baseAll, np)), Cand: pctRat(candAll.Quo(&candAll, np))}
	macro := CompareRow{Group: AvgMacro, N: c.Paired, Base: pctRat(baseMacro.Quo(&baseMacro, ng)), Cand: pctRat(candMacro.Quo(&candMacro, ng))}
	c.finish(&micro, boot[len(groups)])
	c.finish(&macro, boot[len(groups)+1])
	c.Rows = append(c.Rows, micro)
	if only := groupsDiffer(base, cand); only != "" {
		c.MacroRefused = "no Avg (macro) difference: the runs' Macros average over different groups (" + only + ")"
	} else {
		c.Rows = append(c.Rows, macro)
	}
	return c
}

// finish fills a row's difference, interval, p-value and verdicts from
// bootstrap replicates of the mean difference.
//
// Subtleness ahead: the interval's ends are order statistics chosen so
// that it excludes 0 exactly when p < Alpha. With B sorted replicates and
// j the largest integer below Alpha·B/2, the interval is [r_j, r_{B-1-j}]
// (from 0), and p = 2·min(#{r ≤ 0}, #{r ≥ 0})/B: r_j > 0 holds exactly
// when fewer than Alpha·B/2 replicates are ≤ 0, which is p < Alpha.
func (c *Comparison) finish(row *CompareRow, boot []float64) {
	t := c.Thresholds
	row.Delta = row.Cand.Sub(row.Base)
	// Replicates are snapped to 9 decimals: a mean that is exactly 0 may
	// come out of float sums as 1e-15, and must not count as above 0.
	// A replicate whose draw held no item of the row is undefined (NaN).
	sorted := make([]float64, 0, len(boot))
	for _, x := range boot {
		if !math.IsNaN(x) {
			sorted = append(sorted, clean(x))
		}
	}
	if len(sorted) == 0 {
		row.CI, row.P, row.Small = Interval{}, 1, true
		return
	}
	slices.Sort(sorted)
	b := len(sorted)
	j := int(math.Ceil(t.Alpha*float64(b)/2)) - 1
	j = max(0, min(j, (b-1)/2))
	row.CI = Interval{Lo: sorted[j], Hi: sorted[b-1-j]}
	var le, ge int
	for _, x := range sorted {
		if x <= 0 {
			le++
		}
		if x >= 0 {
			ge++
		}
	}
	row.P = min(1, 2*float64(min(le, ge))/float64(b))
	row.Significant = row.P < t.Alpha
	row.Small = row.N < t.MinN
	row.Regressed = row.Significant && !row.Small && row.Delta.Cmp(maxDropPct(t.MaxDrop).Neg()) < 0
}

// maxDropPct is the gate's threshold as an exact decimal.
func maxDropPct(x float64) Pct {
	return MustPct(strconv.FormatFloat(x, 'f', -1, 64))
}

// Regressions returns the rows a gate on groups fails: every regressed
// row whose group is in gated (all rows when gated is nil).
func (c *Comparison) Regressions(gated func(group string) bool) []CompareRow {
	var out []CompareRow
	for _, r := range c.Rows {
		if r.Regressed && (gated == nil || gated(r.Group)) {
			out = append(out, r)
		}
	}
	return out
}

// groupsDiffer names the groups with a scored item in one run only, or
// returns "" when both runs scored items in the same groups.
func groupsDiffer(base, cand map[string]Scored) string {
	set := func(m map[string]Scored) map[string]bool {
		out := map[string]bool{}
		for _, sc := range m {
			out[sc.Group] = true
		}
		return out
	}
	b, c := set(base), set(cand)
	var diff []string
	for _, g := range slices.SortedFunc(maps.Keys(b), eval.TypeOrder) {
		if !c[g] {
			diff = append(diff, g+" scored in the base only")
		}
	}
	for _, g := range slices.SortedFunc(maps.Keys(c), eval.TypeOrder) {
		if !b[g] {
			diff = append(diff, g+" scored in the candidate only")
		}
	}
	return strings.Join(diff, "; ")
}
