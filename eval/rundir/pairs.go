package rundir

import (
	"cmp"
	"maps"
	"slices"

	"github.com/psveval/psveval/eval/stats"
)

// A LabelMatch is a run's verdicts matched to human labels: the pairs to
// measure agreement on, and the labels left out, by reason ("ITEM" or
// "ITEM/CRITERION").
type LabelMatch struct {
	Pairs []stats.Pair // Ref is the label, Got the judge
	// NoItem are labels of items the run does not have (or whose call
	// errored); NoDim, of criteria the item does not have; Unscorable, of
	// criteria the judge left unscorable.
	NoItem, NoDim, Unscorable []string
}

// MatchLabels pairs each label with the run's verdict on the same item
// and criterion.
func MatchLabels(labels []Label, v *Verdicts) *LabelMatch {
	lm := &LabelMatch{}
	for _, l := range labels {
		dims, ok := v.Met[l.ID]
		if !ok {
			lm.NoItem = append(lm.NoItem, l.ID)
			continue
		}
		met, ok := dims[l.Dim]
		switch {
		case !ok:
			lm.NoDim = append(lm.NoDim, l.ID+"/"+l.Dim)
		case met == nil:
			lm.Unscorable = append(lm.Unscorable, l.ID+"/"+l.Dim)
		default:
			lm.Pairs = append(lm.Pairs, stats.Pair{Item: l.ID, Dim: l.Dim, Ref: *l.Met, Got: *met, Cluster: v.Clusters[l.ID]})
		}
	}
	return lm
}

// A VerdictMatch is two judgings of the same answers matched criterion by
// criterion.
type VerdictMatch struct {
	Pairs []stats.Pair // Ref is A, Got is B
	// OnlyA are the items judged in A only; Unscorable, the criteria
	// ("ITEM/CRITERION") unscorable in A or B.
	OnlyA, Unscorable []string
	// Disagree are the items where A and B differ, in A's order, each
	// with the criteria that differ, sorted.
	Disagree []ItemDims
}

// An ItemDims is an item and some of its criteria.
type ItemDims struct {
	Item string
	Dims []string
}

// MatchVerdicts pairs A's verdicts with B's on the same item and
// criterion, in A's item order and criterion name order.
func MatchVerdicts(a, b *Verdicts) *VerdictMatch {
	vm := &VerdictMatch{}
	for _, id := range a.Items {
		mb, ok := b.Met[id]
		if !ok {
			vm.OnlyA = append(vm.OnlyA, id)
			continue
		}
		var differ []string
		ma := a.Met[id]
		for _, d := range slices.Sorted(maps.Keys(ma)) {
			x, y := ma[d], mb[d]
			if x == nil || y == nil {
				vm.Unscorable = append(vm.Unscorable, id+"/"+d)
				continue
			}
			vm.Pairs = append(vm.Pairs, stats.Pair{Item: id, Dim: d, Ref: *x, Got: *y, Cluster: cmp.Or(a.Clusters[id], b.Clusters[id])})
			if *x != *y {
				differ = append(differ, d)
			}
		}
		if len(differ) > 0 {
			vm.Disagree = append(vm.Disagree, ItemDims{id, differ})
		}
	}
	return vm
}
