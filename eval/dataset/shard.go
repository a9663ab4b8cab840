package dataset

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"

	"github.com/psveval/psveval/eval"
)

// A Shard is one of Count shares of a dataset's items, numbered from 0.
// Shares are deterministic and balanced by question type: within each
// type, items are ordered by a hash of their id and dealt out in turn, so
// the shares of a type differ by one item at most (and so do the shares
// overall), and every item is in
// exactly one share whatever the order of the file.
type Shard struct{ Index, Count int }

func (s *Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads "i/n" with 0 ≤ i < n.
func ParseShard(s string) (*Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.Index, &sh.Count); err != nil || fmt.Sprintf("%d/%d", sh.Index, sh.Count) != s {
		return nil, fmt.Errorf("%q: want i/n, such as 0/4", s)
	}
	if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
		return nil, fmt.Errorf("%q: want 0 ≤ i < n", s)
	}
	return &sh, nil
}

// shardMembers walks the records once, reading only ids and types, and
// returns the id hashes of the items in d's shard.
func (d *Dataset) shardMembers() (map[uint64]bool, error) {
	type entry struct{ order, id uint64 }
	byType := map[string][]entry{}
	n := 0
	for pr, err := range d.src.records(false) {
		if err != nil {
			return nil, err
		}
		id := strconv.Itoa(n)
		if col, ok := d.Mapping[RoleID]; ok {
			id, _ = scalarText(pr.rec[col])
		}
		typ := ""
		if col, ok := d.Mapping[RoleType]; ok {
			typ, _ = scalarText(pr.rec[col])
		}
		h := fnv.New64a()
		h.Write([]byte("psveval-shard\x00" + id))
		t := eval.NormalizeType(typ)
		byType[t] = append(byType[t], entry{h.Sum64(), idHash(id)})
		n++
		if d.opts.Limit > 0 && n >= d.opts.Limit {
			break
		}
	}
	// Deal each type in turn, going on where the last type stopped, so
	// the shares differ by one item at most overall too.
	keep := map[uint64]bool{}
	k := 0
	for _, t := range slices.Sorted(maps.Keys(byType)) {
		es := byType[t]
		slices.SortFunc(es, func(a, b entry) int { return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.id, b.id)) })
		for _, e := range es {
			if k%d.opts.Shard.Count == d.opts.Shard.Index {
				keep[e.id] = true
			}
			k++
		}
	}
	return keep, nil
}
