package stats

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// A clusterSet groups items (by position) into clusters for the
// bootstrap. Items share a cluster when their outcomes go together, as
// the questions on one image do: a model that misreads the image misses
// them together. Each resample draws as many clusters as there are, with
// replacement, and takes every item of each one drawn, so every column
// (each group, the averages) is recomputed from the same draw, and a
// cluster whose items span groups moves them together.
type clusterSet struct {
	members [][]int32
	// oneByOne draws every cluster by index whatever their kinds, which
	// tests hold the counts' draws against.
	oneByOne bool
}

// newClusterSet makes the clusters of n items whose keys are key(i): the
// same non-empty key is one cluster; "" is a cluster of its own. Clusters
// are numbered in the order their first item comes, so equal inputs draw
// alike.
func newClusterSet(n int, key func(i int) string) *clusterSet {
	cs := &clusterSet{}
	index := map[string]int{}
	for i := range n {
		k := key(i)
		c, ok := index[k]
		if k == "" || !ok {
			c = len(cs.members)
			cs.members = append(cs.members, nil)
			if k != "" {
				index[k] = c
			}
		}
		cs.members[c] = append(cs.members[c], int32(i))
	}
	return cs
}

// singletons reports whether every cluster holds one item.
func (cs *clusterSet) singletons() bool {
	for _, m := range cs.members {
		if len(m) > 1 {
			return false
		}
	}
	return true
}

// draw makes one resample: it calls take for every item of every cluster
// drawn, a cluster as often as it is drawn.
func (cs *clusterSet) draw(s *sampler, take func(item int32)) {
	n := len(cs.members)
	for range n {
		for _, i := range cs.members[s.index(n)] {
			take(i)
		}
	}
}

// columnReps resamples the mean of x per group, the micro average (every
// item) and the macro average (every group alike) over clusters. It
// returns per resample the ng group means, then micro, then macro; a
// group no drawn item belongs to has NaN, and so has macro then.
func (cs *clusterSet) columnReps(x []float64, group []int, ng, resamples int, seed, stream uint64) [][]float64 {
	reps := make([][]float64, ng+2)
	for c := range reps {
		reps[c] = make([]float64, resamples)
	}
	// Each cluster's sum and count per group it touches, added up once:
	// a draw then costs a few additions a cluster, not one an item.
	type part struct {
		g   int32
		n   int32
		sum float64
	}
	parts := make([][]part, len(cs.members))
	for c, m := range cs.members {
		for _, i := range m {
			g := int32(group[i])
			k := 0
			for k < len(parts[c]) && parts[c][k].g != g {
				k++
			}
			if k == len(parts[c]) {
				parts[c] = append(parts[c], part{g: g})
			}
			parts[c][k].n++
			parts[c][k].sum += x[i]
		}
	}
	// Clusters with the same parts are interchangeable: when they are
	// few kinds (items of a few groups, scoring a few values, each its own
	// cluster, say), a resample draws how many of each kind it takes, a
	// multinomial by conditional binomials, in O(kinds) instead of
	// O(clusters); the distribution is the same.
	kinds, kindCount := []int{}, []int{}
	index := map[string]int{}
	for c, ps := range parts {
		slices.SortFunc(ps, func(a, b part) int { return cmp.Compare(a.g, b.g) })
		key := fmt.Sprint(ps)
		k, ok := index[key]
		if !ok {
			k = len(kinds)
			index[key] = k
			kinds, kindCount = append(kinds, c), append(kindCount, 0)
		}
		kindCount[k]++
	}
	nc := len(cs.members)
	byKind := len(kinds) <= maxKinds && 4*len(kinds) <= nc && !cs.oneByOne
	sum := make([]float64, ng)
	cnt := make([]int32, ng)
	s := newSampler(seed, stream)
	for b := range resamples {
		clear(sum)
		clear(cnt)
		if byKind {
			rem, left := nc, nc
			for k, c := range kinds {
				x := rem
				if k < len(kinds)-1 {
					x = s.binomial(rem, float64(kindCount[k])/float64(left))
				}
				rem, left = rem-x, left-kindCount[k]
				for _, p := range parts[c] {
					sum[p.g] += float64(x) * p.sum
					cnt[p.g] += int32(x) * p.n
				}
			}
		} else {
			for range nc {
				for _, p := range parts[s.index(nc)] {
					sum[p.g] += p.sum
					cnt[p.g] += p.n
				}
			}
		}
		var tot, macro float64
		var n int32
		for g := range ng {
			if cnt[g] == 0 {
				reps[g][b] = math.NaN()
				macro = math.NaN()
				continue
			}
			reps[g][b] = sum[g] / float64(cnt[g])
			macro += reps[g][b]
			tot += sum[g]
			n += cnt[g]
		}
		reps[ng][b] = tot / float64(n)
		reps[ng+1][b] = macro / float64(ng)
	}
	return reps
}

// maxKinds bounds the kinds of cluster for which a resample draws counts:
// a binomial draw costs some tens of nanoseconds, an index draw a few, so
// counts pay while the kinds are far fewer than the clusters (a quarter
// of them or fewer).
const maxKinds = 256

// defined returns the replicates that are not NaN, and whether they are
// enough to give an interval: a replicate is undefined when the draw
// holds no item of the column, and when more than maxUndefined of them
// are, the column has too few clusters to resample.
func defined(reps []float64) ([]float64, bool) {
	out := make([]float64, 0, len(reps))
	for _, x := range reps {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	return out, len(out) > 0 && float64(len(reps)-len(out)) <= maxUndefined*float64(len(reps))
}

// maxUndefined is the share of resamples a column may miss, holding no
// item of it, and still get an interval.
const maxUndefined = 0.01

// variance returns the sample variance of xs (NaN for fewer than two).
func variance(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	var v float64
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return v / float64(len(xs)-1)
}
