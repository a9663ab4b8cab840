package rundir

import (
	"github.com/psveval/psveval/eval/stats"
	"github.com/sourcegraph/conc/pool"
)

// LoadRuns loads run directories, a few at a time, in the order given.
func LoadRuns(dirs []string, opts stats.AggregateOptions) ([]*RunDir, error) {
	p := pool.NewWithResults[*RunDir]().WithErrors().WithMaxGoroutines(4)
	for _, d := range dirs {
		p.Go(func() (*RunDir, error) { return LoadRun(d, opts) })
	}
	runs, err := p.Wait()
	if err != nil {
		return nil, err
	}
	// Results come back in completion order; restore the given order.
	byDir := map[string]*RunDir{}
	for _, r := range runs {
		byDir[r.Dir] = r
	}
	out := make([]*RunDir, len(dirs))
	for i, d := range dirs {
		out[i] = byDir[d]
	}
	return out, nil
}
