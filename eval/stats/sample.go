package stats

import (
	"cmp"
	"slices"
)

// A Stratum is one stratum of a random draw: its key, how many items it
// holds and how many were drawn from it. A labelled item's design weight
// is Population / Drawn.
type Stratum struct {
	Key        string `json:"key"`
	Population int    `json:"population"`
	Drawn      int    `json:"drawn"`
}

// Weight is the design weight of an item drawn from s.
func (s Stratum) Weight() float64 {
	if s.Drawn == 0 {
		return 0
	}
	return float64(s.Population) / float64(s.Drawn)
}

// Sample draws n of len(strata) items without replacement, seeded. With
// every stratum key "" the draw is uniform. Otherwise each stratum first
// gets min(its size, MinLabelled, n / strata) items, so that a rare
// question type can still be corrected, and the rest are shared in
// proportion to the strata's sizes (largest remainder); the weights
// ([Stratum.Weight]) undo the unequal chances. It returns the indices
// drawn, in increasing order, and the strata in key order.
func Sample(strata []string, n int, seed uint64) ([]int, []Stratum) {
	byKey := map[string][]int{}
	for i, k := range strata {
		byKey[k] = append(byKey[k], i)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	n = min(n, len(strata))
	take := allocate(keys, byKey, n)
	s := newSampler(seed, 0x5a3b1e)
	var out []int
	st := make([]Stratum, len(keys))
	for j, k := range keys {
		members := slices.Clone(byKey[k])
		// Partial Fisher–Yates: the first take[j] are the draw.
		for i := range take[j] {
			r := i + s.index(len(members)-i)
			members[i], members[r] = members[r], members[i]
		}
		out = append(out, members[:take[j]]...)
		st[j] = Stratum{Key: k, Population: len(members), Drawn: take[j]}
	}
	slices.Sort(out)
	return out, st
}

// allocate shares n draws among the strata: a floor each, then the rest
// in proportion to size, by largest remainder, never past a stratum's
// size.
func allocate(keys []string, byKey map[string][]int, n int) []int {
	take := make([]int, len(keys))
	if len(keys) == 1 {
		take[0] = n
		return take
	}
	floor := min(DefaultMinLabelled, n/len(keys))
	left, total := n, 0
	for j, k := range keys {
		take[j] = min(len(byKey[k]), floor)
		left -= take[j]
		total += len(byKey[k])
	}
	for left > 0 {
		// Give each stratum its proportional share of what is left, by
		// largest remainder among those with room.
		best, bestGap := -1, -1.0
		for j, k := range keys {
			size := len(byKey[k])
			if take[j] >= size {
				continue
			}
			gap := float64(n)*float64(size)/float64(total) - float64(take[j])
			if gap > bestGap {
				best, bestGap = j, gap
			}
		}
		if best < 0 {
			break
		}
		take[best]++
		left--
	}
	return take
}
