package stats

import (
	"cmp"
	"slices"

	"github.com/psveval/psveval/eval"
)

// A BestColumn says, for one column of a sweep, how often each point is
// the best when items are resampled jointly across the points.
type BestColumn struct {
	Group string `json:"group"`
	// Best is the point with the highest accuracy on the items as they
	// are (the lowest value, when several tie exactly).
	Best float64 `json:"best"`
	// Ties lists every value tied exactly for the best, Best included,
	// when more than one is.
	Ties []float64 `json:"ties,omitempty"`
	// Shares are, per point in the order given, the share of resamples
	// (in percent) in which that point is the best or tied for it: a tie
	// is a win for each, so shares may add up to more than 100.
	Shares []ValueShare `json:"shares"`
	// Plausible lists the values best in at least 5% of resamples.
	Plausible []float64 `json:"plausible"`
}

// A ValueShare is a point's value and its share of resamples.
type ValueShare struct {
	Value float64 `json:"value"`
	Share float64 `json:"share"`
}

// Share returns the share of the point at value v (0 if none).
func (b BestColumn) Share(v float64) float64 {
	for _, s := range b.Shares {
		if s.Value == v {
			return s.Share
		}
	}
	return 0
}

// BestOf finds the best point of a sweep per column (each group, then
// "Avg (micro)" and "Avg (macro)") with its uncertainty. values[p] is
// point p's value; scores[p] its scored items. Only items scored at every
// point count, so the comparison is paired: each resample draws clusters
// of items with replacement (items sharing an image together; see
// [Scored]), the same draw for every point.
func BestOf(values []float64, scores []map[string]Scored, resamples int, seed uint64) []BestColumn {
	if len(scores) == 0 {
		return nil
	}
	var ids []string
	for id := range scores[0] {
		shared := true
		for _, s := range scores[1:] {
			if _, ok := s[id]; !ok {
				shared = false
				break
			}
		}
		if shared {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	groups := []string{}
	gi := map[string]int{}
	itemGroup := make([]int, len(ids))
	for i, id := range ids {
		g := scores[0][id].Group
		k, ok := gi[g]
		if !ok {
			k = len(groups)
			gi[g] = k
			groups = append(groups, g)
		}
		itemGroup[i] = k
	}
	np, ng := len(scores), len(groups)
	x := make([][]float64, np)
	for p := range np {
		x[p] = make([]float64, len(ids))
		for i, id := range ids {
			x[p][i] = scores[p][id].Score
		}
	}
	ncol := ng + 2
	// columns returns every point's accuracy per column for one draw of
	// item indexes (nil: the items as they are).
	sum := make([][]float64, np)
	cnt := make([]float64, ng)
	for p := range sum {
		sum[p] = make([]float64, ng)
	}
	columns := func(draw func(take func(j int32))) [][]float64 {
		for p := range sum {
			clear(sum[p])
		}
		clear(cnt)
		draw(func(j int32) {
			g := itemGroup[j]
			cnt[g]++
			for p := range np {
				sum[p][g] += x[p][j]
			}
		})
		out := make([][]float64, np)
		for p := range np {
			out[p] = make([]float64, ncol)
			var tot, macro float64
			var n, groupsSeen float64
			for g := range ng {
				if cnt[g] > 0 {
					out[p][g] = sum[p][g] / cnt[g]
					macro += out[p][g]
					groupsSeen++
				}
				tot += sum[p][g]
				n += cnt[g]
			}
			if n > 0 {
				out[p][ng] = tot / n
			}
			if groupsSeen > 0 {
				out[p][ng+1] = macro / groupsSeen
			}
		}
		return out
	}
	best := func(acc [][]float64, col int) []int {
		var top []int
		for p := range np {
			switch {
			case len(top) == 0 || acc[p][col] > acc[top[0]][col]+1e-12:
				top = []int{p}
			case acc[p][col] >= acc[top[0]][col]-1e-12:
				top = append(top, p)
			}
		}
		return top
	}
	names := append(slices.Clone(groups), "Avg (micro)", "Avg (macro)")
	asIs := columns(func(take func(int32)) {
		for i := range ids {
			take(int32(i))
		}
	})
	wins := make([][]float64, ncol)
	for c := range wins {
		wins[c] = make([]float64, np)
	}
	cs := newClusterSet(len(ids), func(i int) string {
		for _, sc := range scores {
			if k := sc[ids[i]].Cluster; k != "" {
				return k
			}
		}
		return ""
	})
	s := newSampler(seed, 0xbe57)
	for range resamples {
		acc := columns(func(take func(int32)) { cs.draw(s, take) })
		for c := range ncol {
			// A tie is a win for every tied point: identical points must
			// not dilute each other out of the plausible set.
			for _, p := range best(acc, c) {
				wins[c][p]++
			}
		}
	}
	out := make([]BestColumn, 0, ncol)
	for c := range ncol {
		bc := BestColumn{Group: names[c]}
		if len(ids) > 0 {
			top := best(asIs, c)
			bc.Best = values[top[0]]
			if len(top) > 1 {
				for _, p := range top {
					bc.Ties = append(bc.Ties, values[p])
				}
				slices.SortFunc(bc.Ties, cmp.Compare[float64])
			}
		}
		for p := range np {
			share := 0.0
			if resamples > 0 {
				share = clean(100 * wins[c][p] / float64(resamples))
			}
			bc.Shares = append(bc.Shares, ValueShare{values[p], share})
			if share >= 5 {
				bc.Plausible = append(bc.Plausible, values[p])
			}
		}
		slices.SortFunc(bc.Plausible, cmp.Compare[float64])
		out = append(out, bc)
	}
	slices.SortStableFunc(out[:ng], func(a, b BestColumn) int { return eval.TypeOrder(a.Group, b.Group) })
	return out
}
