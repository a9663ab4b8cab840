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
	// Best is the point with the highest accuracy on the items as they are.
	Best float64 `json:"best"`
	// Shares are, per point in the order given, the share of resamples
	// (in percent) in which that point is the best; ties split a
	// resample evenly.
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
// point count, so the comparison is paired: each resample draws items
// with replacement, the same draw for every point.
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
	columns := func(draw func(i int) int) [][]float64 {
		for p := range sum {
			clear(sum[p])
		}
		clear(cnt)
		for i := range ids {
			j := draw(i)
			g := itemGroup[j]
			cnt[g]++
			for p := range np {
				sum[p][g] += x[p][j]
			}
		}
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
	asIs := columns(func(i int) int { return i })
	wins := make([][]float64, ncol)
	for c := range wins {
		wins[c] = make([]float64, np)
	}
	s := newSampler(seed, 0xbe57)
	for range resamples {
		acc := columns(func(int) int { return s.index(len(ids)) })
		for c := range ncol {
			top := best(acc, c)
			for _, p := range top {
				wins[c][p] += 1 / float64(len(top))
			}
		}
	}
	out := make([]BestColumn, 0, ncol)
	for c := range ncol {
		bc := BestColumn{Group: names[c]}
		if len(ids) > 0 {
			bc.Best = values[best(asIs, c)[0]]
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
