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

// ShardFromEnv reads the shard of a job array from the environment, as
// getenv gives it, for --shard auto. It never guesses:
//
//   - a Kubernetes Indexed Job: the index is JOB_COMPLETION_INDEX and the
//     count must be given (count, from --shard-count: the job's
//     completions);
//   - a Slurm array: the index is SLURM_ARRAY_TASK_ID as given; the count
//     is count when given, else SLURM_ARRAY_TASK_COUNT, but only when the
//     array is the full range 0…COUNT−1 (SLURM_ARRAY_TASK_MIN 0,
//     SLURM_ARRAY_TASK_MAX COUNT−1, step 1). A re-run of one task
//     (--array=1), a list (--array=1,3) or a step (--array=0-6:2) needs
//     count.
//
// Anything else is an error that says how to write the shard.
func ShardFromEnv(getenv func(string) string, count int) (*Shard, error) {
	num := func(name string) (int, bool) {
		n, err := strconv.Atoi(getenv(name))
		return n, err == nil
	}
	check := func(i, n int, from string) (*Shard, error) {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("%s is %d, not a shard of %d (0 to %d): give --shard %d/N with N the number of shards", from, i, n, n-1, i)
		}
		return &Shard{Index: i, Count: n}, nil
	}
	if i, ok := num("JOB_COMPLETION_INDEX"); ok {
		if count < 1 {
			return nil, fmt.Errorf("under a Kubernetes Indexed Job give the job's completions as --shard-count (or give --shard %d/N)", i)
		}
		return check(i, count, "JOB_COMPLETION_INDEX")
	}
	id, ok := num("SLURM_ARRAY_TASK_ID")
	if !ok {
		return nil, fmt.Errorf("neither JOB_COMPLETION_INDEX (Kubernetes) nor SLURM_ARRAY_TASK_ID (Slurm) is set; give --shard i/n")
	}
	if count > 0 {
		return check(id, count, "SLURM_ARRAY_TASK_ID")
	}
	n, okN := num("SLURM_ARRAY_TASK_COUNT")
	lo, okLo := num("SLURM_ARRAY_TASK_MIN")
	hi, okHi := num("SLURM_ARRAY_TASK_MAX")
	step, okStep := num("SLURM_ARRAY_TASK_STEP")
	if !okN || !okLo || !okHi || lo != 0 || hi != n-1 || okStep && step != 1 {
		return nil, fmt.Errorf("the Slurm array (task %d; SLURM_ARRAY_TASK_MIN %q, MAX %q, COUNT %q, STEP %q) is not the full range 0…N−1, so the number of shards is unknown: give it, as --shard %d/N or --shard auto --shard-count N",
			id, getenv("SLURM_ARRAY_TASK_MIN"), getenv("SLURM_ARRAY_TASK_MAX"), getenv("SLURM_ARRAY_TASK_COUNT"), getenv("SLURM_ARRAY_TASK_STEP"), id)
	}
	return check(id, n, "SLURM_ARRAY_TASK_ID")
}
