package rundir

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval"
)

// A Flip is an item scored in two runs whose score changed.
type Flip struct {
	ID         string
	Base, Cand eval.Result
}

// Flips returns the items scored in both runs whose score changed, the
// largest drop first (ties by id), with both runs' full results.
func Flips(base, cand *RunDir) ([]Flip, error) {
	changed := map[string]bool{}
	for id, b := range base.Scores {
		if c, ok := cand.Scores[id]; ok && c.Score != b.Score {
			changed[id] = true
		}
	}
	pick := func(dir string) (map[string]eval.Result, error) {
		out := map[string]eval.Result{}
		err := ReadResults(filepath.Join(dir, ResultsFile), func(r eval.Result) error {
			if changed[r.ID] {
				out[r.ID] = r
			}
			return nil
		})
		return out, err
	}
	br, err := pick(base.Dir)
	if err != nil {
		return nil, err
	}
	cr, err := pick(cand.Dir)
	if err != nil {
		return nil, err
	}
	flips := make([]Flip, 0, len(changed))
	for id := range changed {
		flips = append(flips, Flip{ID: id, Base: br[id], Cand: cr[id]})
	}
	delta := func(f Flip) float64 { return *f.Cand.Score - *f.Base.Score }
	slices.SortFunc(flips, func(a, b Flip) int {
		return cmp.Or(cmp.Compare(delta(a), delta(b)), strings.Compare(a.ID, b.ID))
	})
	return flips, nil
}
