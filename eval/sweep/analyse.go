package sweep

import (
	"fmt"

	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// An Analysis is a finished sweep's curve: each point's run, the best
// value of the axis per column, and the paired step from each point to
// the next. It is what the sweep directory's analysis.json holds.
type Analysis struct {
	Axis   string              `json:"axis"`
	Values []float64           `json:"values"`
	Best   []stats.BestColumn  `json:"best"`
	Steps  []*stats.Comparison `json:"steps"`
	// Labels and Runs are the points' labels and runs, in value order.
	Labels []string         `json:"-"`
	Runs   []*rundir.RunDir `json:"-"`
}

// A MismatchError reports points that evaluated different items, which
// a curve cannot join.
type MismatchError struct{ Err error }

func (e *MismatchError) Error() string { return e.Err.Error() }
func (e *MismatchError) Unwrap() error { return e.Err }

// Analyse loads the finished points of the sweep s in dir, aggregated as
// agg says, refuses points that evaluated different items, and measures
// the best values and the steps with the comparison options cmp.
func Analyse(dir string, s *Spec, agg stats.AggregateOptions, cmp stats.CompareOptions) (*Analysis, error) {
	a := &Analysis{Axis: s.Axis}
	points := s.Sorted()
	dirs := make([]string, len(points))
	for i, p := range points {
		dirs[i] = s.Dir(dir, p)
		a.Values = append(a.Values, p.Value)
		a.Labels = append(a.Labels, s.Label(p))
	}
	runs, err := rundir.LoadRuns(dirs, agg)
	if err != nil {
		return nil, err
	}
	scores := make([]map[string]stats.Scored, len(runs))
	for i, r := range runs {
		if fp, fp0 := r.Manifest.Dataset.Fingerprint, runs[0].Manifest.Dataset.Fingerprint; fp != fp0 {
			return nil, &MismatchError{fmt.Errorf("the points evaluated different items: %s has dataset fingerprint %s, %s has %s", a.Labels[0], rundir.ShortHash(fp0), a.Labels[i], rundir.ShortHash(fp))}
		}
		scores[i] = r.Scores
	}
	a.Runs = runs
	a.Best = stats.BestOf(a.Values, scores, cmp.Resamples, cmp.Seed)
	for i := 1; i < len(runs); i++ {
		a.Steps = append(a.Steps, stats.Compare(runs[i-1].Scores, runs[i].Scores, cmp))
	}
	return a, nil
}

// Expand returns the run directories and labels that dirs stand for: the
// points of the sweep, in value order, when dirs is one sweep directory
// (with its spec); else dirs themselves and no spec.
func Expand(dirs []string) ([]string, []string, *Spec, error) {
	if len(dirs) != 1 {
		return dirs, nil, nil, nil
	}
	s, ok, err := Read(dirs[0])
	if err != nil || !ok {
		return dirs, nil, nil, err
	}
	var out, labels []string
	for _, p := range s.Sorted() {
		out = append(out, s.Dir(dirs[0], p))
		labels = append(labels, s.Label(p))
	}
	return out, labels, s, nil
}
