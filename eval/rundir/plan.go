package rundir

import (
	"fmt"

	"github.com/psveval/psveval/eval/stats"
)

// PlanLabels answers "how many labels for ±half points" from a pilot
// labels file on the run in dir (see [stats.PlanLabels]). Errors of the
// labels are *eval.InputError or *LabelError.
func PlanLabels(dir, labels string, half, level float64) (*stats.LabelPlan, error) {
	m, err := Open(dir)
	if err != nil {
		return nil, err
	}
	ls, err := ReadLabelSet(labels)
	if err != nil {
		return nil, err
	}
	items, _, err := CalItems(dir, ls, m, CalibrateOptions{})
	if err != nil {
		return nil, err
	}
	lp, err := stats.PlanLabels(items, half, level)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", labels, dir, err)
	}
	return lp, nil
}

// A SameRunError is one run given twice where two are compared.
type SameRunError struct{ A, B, Why string }

func (e *SameRunError) Error() string {
	return fmt.Sprintf("%s and %s are one run (%s): give two runs of the same items, or one", e.A, e.B, e.Why)
}

// PlanItems answers "how many items for the gate to catch a drop" from a
// pilot run, or two runs of the same items (the pairing measured), with
// the shared judge noise measured in noiseDir when given (see
// [stats.PlanItems]).
func PlanItems(dirs []string, agg stats.AggregateOptions, opts stats.ItemPlanOptions, noiseDir string) (*stats.ItemPlan, error) {
	runs, err := LoadRuns(dirs, agg)
	if err != nil {
		return nil, err
	}
	var cand map[string]stats.Scored
	if len(runs) == 2 {
		if same, why, err := Same(dirs[0], dirs[1]); err == nil && same {
			return nil, &SameRunError{dirs[0], dirs[1], why}
		}
		cand = runs[1].Scores
	}
	if noiseDir != "" {
		noise, err := ReadNoise(noiseDir)
		if err != nil {
			return nil, fmt.Errorf("--noise %s: %w (give the --out directory of psveval judge --repeat K)", noiseDir, err)
		}
		opts.SharedSD = noise.SharedSD()[stats.AvgMicro]
	}
	diffs, clusters := stats.PilotDiffs(runs[0].Scores, cand)
	return stats.PlanItems(diffs, clusters, cand != nil, opts)
}
