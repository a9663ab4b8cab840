package eval

import (
	"maps"
	"math"
	"slices"
)

// Thresholds configure comparisons and gates.
type Thresholds struct {
	// MinN is the fewest paired items for a group to be gated; smaller
	// groups are compared with a warning and never gated.
	MinN int `json:"min_n"`
	// MaxDrop is the largest drop, in accuracy points, that a gate lets
	// pass however significant.
	MaxDrop float64 `json:"max_drop"`
	// Alpha is the significance level.
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
}

// A CompareRow compares one group, or an average.
type CompareRow struct {
	Group string `json:"group"`
	// N is the paired items of the group.
	N int `json:"n"`
	// Base and Cand are the accuracies over the paired items; Delta is
	// Cand - Base, in points, with a paired bootstrap interval CI and a
	// two-sided p-value from a paired sign-flip randomisation test.
	Base  float64  `json:"base"`
	Cand  float64  `json:"candidate"`
	Delta float64  `json:"delta"`
	CI    Interval `json:"ci"`
	P     float64  `json:"p"`
	// Significant is P < Alpha. Regressed is a significant drop larger
	// than MaxDrop in a group of at least MinN items: what a gate fails on.
	Significant bool `json:"significant"`
	Regressed   bool `json:"regressed"`
	// Small marks a group under MinN: reported, never gated.
	Small bool `json:"small,omitempty"`
}

// A Scored is one item's score in one run, the unit a comparison pairs.
type Scored struct {
	Group string
	Score float64
}

// Compare pairs base and cand by item id, over the items scored in both.
func Compare(base, cand map[string]Scored, opts CompareOptions) *Comparison {
	if opts.Resamples == 0 {
		opts.Resamples = DefaultResamples
	}
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	if opts.Thresholds == (Thresholds{}) {
		opts.Thresholds = DefaultThresholds
	}
	c := &Comparison{Thresholds: opts.Thresholds, Bootstrap: BootstrapInfo{
		Resamples: opts.Resamples, Seed: opts.Seed, Level: 0.95,
		Method: "paired percentile bootstrap over items, stratified by group; p from a paired sign-flip randomisation test",
	}}
	diffs := map[string][]float64{}
	baseSum, candSum := map[string]float64{}, map[string]float64{}
	for _, id := range slices.Sorted(maps.Keys(base)) {
		b := base[id]
		k, ok := cand[id]
		if !ok {
			c.OnlyBase++
			continue
		}
		c.Paired++
		d := 100 * (k.Score - b.Score)
		switch {
		case d > 0:
			c.Improved++
		case d < 0:
			c.Worsened++
		}
		diffs[b.Group] = append(diffs[b.Group], d)
		baseSum[b.Group] += 100 * b.Score
		candSum[b.Group] += 100 * k.Score
	}
	for id := range cand {
		if _, ok := base[id]; !ok {
			c.OnlyCand++
		}
	}
	groups := slices.SortedFunc(maps.Keys(diffs), TypeOrder)
	// Bootstrap and sign-flip replicates per group, kept to combine into
	// the averages with the same resamples.
	boot := make([][]float64, len(groups))
	flip := make([][]float64, len(groups))
	var all []float64
	var baseAll, candAll float64
	for i, g := range groups {
		d := diffs[g]
		n := float64(len(d))
		boot[i] = bootstrapMeans64(d, opts.Resamples, opts.Seed, uint64(i))
		flip[i] = signFlipMeans(d, opts.Resamples, opts.Seed, uint64(1000+i))
		row := CompareRow{Group: g, N: len(d), Base: baseSum[g] / n, Cand: candSum[g] / n}
		row.Delta = row.Cand - row.Base
		c.finish(&row, boot[i], flip[i])
		c.Rows = append(c.Rows, row)
		all = append(all, d...)
		baseAll += baseSum[g]
		candAll += candSum[g]
	}
	if c.Paired == 0 {
		return c
	}
	// Averages: micro weights items (groups by their size), macro weights
	// groups equally; both from the same per-group replicates.
	micro := CompareRow{Group: AvgMicro, N: c.Paired, Base: baseAll / float64(c.Paired), Cand: candAll / float64(c.Paired)}
	micro.Delta = micro.Cand - micro.Base
	macro := CompareRow{Group: AvgMacro, N: c.Paired}
	for _, r := range c.Rows {
		macro.Base += r.Base / float64(len(groups))
		macro.Cand += r.Cand / float64(len(groups))
	}
	macro.Delta = macro.Cand - macro.Base
	mb, mf := make([]float64, opts.Resamples), make([]float64, opts.Resamples)
	ab, af := make([]float64, opts.Resamples), make([]float64, opts.Resamples)
	for r := range opts.Resamples {
		for i := range groups {
			w := float64(len(diffs[groups[i]])) / float64(c.Paired)
			mb[r] += w * boot[i][r]
			mf[r] += w * flip[i][r]
			ab[r] += boot[i][r] / float64(len(groups))
			af[r] += flip[i][r] / float64(len(groups))
		}
	}
	c.finish(&micro, mb, mf)
	c.finish(&macro, ab, af)
	c.Rows = append(c.Rows, micro, macro)
	return c
}

// finish fills a row's interval, p-value and verdicts from replicates of
// the mean difference (boot) and of its null distribution (flip).
func (c *Comparison) finish(row *CompareRow, boot, flip []float64) {
	row.CI = percentileInterval(slices.Clone(boot), 0.95) // boot is combined later: keep its order
	extreme := 0
	obs := math.Abs(row.Delta)
	for _, f := range flip {
		if math.Abs(f) >= obs-1e-9 {
			extreme++
		}
	}
	row.P = float64(extreme+1) / float64(len(flip)+1)
	if row.Delta == 0 {
		row.P = 1
	}
	t := c.Thresholds
	row.Significant = row.P < t.Alpha
	row.Small = row.N < t.MinN
	row.Regressed = row.Significant && !row.Small && row.Delta < -t.MaxDrop
}

// bootstrapMeans64 is bootstrapMeans for float64 data.
func bootstrapMeans64(xs []float64, resamples int, seed, stream uint64) []float64 {
	return resampleMeans(xs, resamples, seed, stream)
}

// signFlipMeans returns replicates of the mean of d with each difference's
// sign flipped at random: the distribution of the mean if the two runs
// were exchangeable. Zero differences cannot flip, so only the others are
// drawn.
func signFlipMeans(d []float64, resamples int, seed, stream uint64) []float64 {
	nz := slices.DeleteFunc(slices.Clone(d), func(x float64) bool { return x == 0 })
	out := make([]float64, resamples)
	if len(nz) == 0 || len(d) == 0 {
		return out
	}
	s := newSampler(seed, stream)
	n := float64(len(d))
	if t, ok := tallyOf(nz); ok {
		for b := range out {
			out[b] = t.signFlipMean(s, len(d))
		}
		return out
	}
	for b := range out {
		var sum float64
		for i := 0; i < len(nz); i += 64 {
			bits := s.uint64()
			for j := i; j < min(i+64, len(nz)); j++ {
				// Flip the sign bit without a branch: a coin flip is
				// what a branch predictor cannot learn.
				sum += math.Float64frombits(math.Float64bits(nz[j]) ^ (bits&1)<<63)
				bits >>= 1
			}
		}
		out[b] = sum / n
	}
	return out
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
