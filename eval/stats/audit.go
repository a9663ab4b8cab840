package stats

import (
	"math"
)

// A Pair is one criterion of one item rated twice: Ref by the reference
// rater (a person's label, or the first of two judgings) and Got by the
// rater under test (the judge).
type Pair struct {
	Item, Dim string
	Ref, Got  bool
	// Cluster is the item's cluster key ("" for a cluster of its own):
	// κ's interval resamples clusters.
	Cluster string
}

// A Confusion counts pairs by the two ratings, "met" being positive:
// TP both met, FP met by the rater only, FN met by the reference only,
// TN neither.
type Confusion struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	TN int `json:"tn"`
}

// N is the number of pairs counted.
func (c Confusion) N() int { return c.TP + c.FP + c.FN + c.TN }

func (c *Confusion) add(p Pair) {
	switch {
	case p.Ref && p.Got:
		c.TP++
	case p.Got:
		c.FP++
	case p.Ref:
		c.FN++
	default:
		c.TN++
	}
}

// kappa is Cohen's κ from the counts, NaN for no pairs; two raters that
// agree on one constant rating have κ = 1 by convention.
func (c Confusion) kappa() float64 {
	n := float64(c.N())
	if n == 0 {
		return math.NaN()
	}
	po := float64(c.TP+c.TN) / n
	pr, pg := float64(c.TP+c.FN)/n, float64(c.TP+c.FP)/n
	pe := pr*pg + (1-pr)*(1-pg)
	if pe == 1 {
		return math.NaN() // both raters constant: κ is undefined
	}
	return (po - pe) / (1 - pe)
}

// A RaterAgreement is how well a rater agrees with a reference on one
// rubric dimension, or on all of them (Dim "all").
type RaterAgreement struct {
	Dim   string `json:"dim"`
	Items int    `json:"items"`
	// Agreement is the share of pairs rated alike, in percent.
	Agreement float64 `json:"agreement"`
	// Kappa is Cohen's κ (nil with no pairs); KappaCI its percentile
	// bootstrap interval over items (nil without resamples).
	Kappa     *float64  `json:"kappa"`
	KappaCI   *Interval `json:"kappa_ci,omitempty"`
	Confusion Confusion `json:"confusion"`
	// Precision and Recall of the rater's "met" against the reference's,
	// in percent (nil where undefined: no met by the rater, or none by
	// the reference).
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
}

// AllDims names the row that pools every dimension.
const AllDims = "all"

// Agree measures a rater against a reference, per dimension in the order
// dimensions first appear, then over all pairs (Dim AllDims). κ intervals
// come from resampling items (all of an item's pairs together), seeded;
// resamples ≤ 0 gives none.
func Agree(pairs []Pair, resamples int, seed uint64) []RaterAgreement {
	var dims []string
	byDim := map[string][]Pair{}
	for _, p := range pairs {
		if _, ok := byDim[p.Dim]; !ok {
			dims = append(dims, p.Dim)
		}
		byDim[p.Dim] = append(byDim[p.Dim], p)
	}
	out := make([]RaterAgreement, 0, len(dims)+1)
	for i, d := range dims {
		out = append(out, agreeOn(d, byDim[d], resamples, seed, uint64(i)))
	}
	return append(out, agreeOn(AllDims, pairs, resamples, seed, uint64(len(dims))))
}

func agreeOn(dim string, pairs []Pair, resamples int, seed, stream uint64) RaterAgreement {
	// Group by cluster (the item, where it shares no image), in
	// first-appearance order, for the cluster bootstrap.
	var units []string
	counts := map[string]*Confusion{}
	itemSeen := map[string]bool{}
	var all Confusion
	for _, p := range pairs {
		unit := p.Cluster
		if unit == "" {
			unit = "\x00" + p.Item
		}
		c, ok := counts[unit]
		if !ok {
			c = &Confusion{}
			counts[unit] = c
			units = append(units, unit)
		}
		itemSeen[p.Item] = true
		c.add(p)
		all.add(p)
	}
	ra := RaterAgreement{Dim: dim, Items: len(itemSeen), Confusion: all}
	if n := all.N(); n > 0 {
		ra.Agreement = clean(100 * float64(all.TP+all.TN) / float64(n))
	}
	if k := all.kappa(); !math.IsNaN(k) {
		k = clean(k)
		ra.Kappa = &k
	}
	if all.TP+all.FP > 0 {
		p := clean(100 * float64(all.TP) / float64(all.TP+all.FP))
		ra.Precision = &p
	}
	if all.TP+all.FN > 0 {
		r := clean(100 * float64(all.TP) / float64(all.TP+all.FN))
		ra.Recall = &r
	}
	if resamples > 0 && len(units) > 0 && ra.Kappa != nil {
		per := make([]Confusion, len(units))
		for i, u := range units {
			per[i] = *counts[u]
		}
		s := newSampler(seed, 0xa6ee0000+stream)
		reps := make([]float64, 0, resamples)
		for range resamples {
			var c Confusion
			for range per {
				d := per[s.index(len(per))]
				c.TP, c.FP, c.FN, c.TN = c.TP+d.TP, c.FP+d.FP, c.FN+d.FN, c.TN+d.TN
			}
			reps = append(reps, c.kappa()) // NaN where a draw leaves a rater constant
		}
		// A draw where both raters are constant has no κ: it is left
		// out, and when that happens often, there is no interval.
		if r, ok := defined(reps); ok {
			iv := percentileInterval(r, 0.95)
			iv = Interval{Lo: clean(iv.Lo), Hi: clean(iv.Hi)}
			ra.KappaCI = &iv
		}
	}
	return ra
}
