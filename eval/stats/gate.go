package stats

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval"
)

// A GatePolicy is what a CI gate checks of a candidate run against a
// baseline.
type GatePolicy struct {
	// Compare sets the resampling and the thresholds: MinN (columns with
	// fewer paired items are reported, never gated), MaxDrop (points) and
	// Alpha.
	Compare CompareOptions
	// Types names the gated columns: "avg" or "" (Avg micro), "all", or a
	// comma-separated list of groups, by name or the paper's
	// abbreviation, with avg (or micro) and macro for the averages.
	Types string
	// MaxErrorRate is the largest share of unscored and errored items
	// either run may have.
	MaxErrorRate float64
	// JudgeSD, when set, is the judge's noise shared by every item, per
	// column (SD in points: [JudgeNoise.SharedSD]), added to every
	// interval (see [Comparison.AddJudgeNoise]).
	JudgeSD map[string]float64
}

// A GateRun is one side of a gate: a run's name (for messages), its
// summary, its scored items, and the items it skipped as bad input
// (--skip-bad-items), which are in no other count.
type GateRun struct {
	Name    string
	Summary *Summary
	Scores  map[string]Scored
	Skipped int
}

// A GateDecision is the gate's verdict on a comparison.
type GateDecision struct {
	Comparison *Comparison
	// Gated tells whether a column is gated (nil: every column).
	Gated func(group string) bool
	// Regressed are the gated columns that dropped significantly by
	// more than MaxDrop; Checked, every gated column with enough pairs;
	// Small, the gated columns with fewer than MinN pairs, not gated.
	Regressed, Checked, Small []CompareRow
	// Widened are the columns whose intervals hold the judge's noise.
	Widened []string
}

// Failed reports whether the candidate regressed.
func (d *GateDecision) Failed() bool { return len(d.Regressed) > 0 }

// A GateError is a gate that cannot decide. Kind says why:
// "error-rate" (a run has too many unscored or errored items, or none:
// operational), "unpaired" (the runs share no scored item: usage),
// "types" (--types names what the comparison lacks: usage) or
// "nothing-gated" (every gated column is below MinN: operational).
// Decision is set for "nothing-gated", so the comparison can be shown.
type GateError struct {
	Kind     string
	Err      error
	Decision *GateDecision
}

func (e *GateError) Error() string { return e.Err.Error() }
func (e *GateError) Unwrap() error { return e.Err }

// Usage reports whether the error is in what was asked (exit 2) rather
// than in the runs (exit 3).
func (e *GateError) Usage() bool { return e.Kind == "unpaired" || e.Kind == "types" }

// CheckErrorRate checks a run's unscored plus errored items against the
// largest share allowed. A run with no items fails: it evaluated nothing.
// It is the one statement of that rule, for psveval run and the gate.
func CheckErrorRate(s *Summary, max float64) error { return checkComplete(s, 0, max) }

// checkComplete is CheckErrorRate with extra items that were asked about
// and not evaluated (skipped, or missing), counted as bad.
func checkComplete(s *Summary, extra int, max float64) error {
	bad, n := s.NUnscored+s.NErrors+extra, s.NItems+extra
	switch {
	case s.NItems == 0:
		return errors.New("no item was evaluated")
	case float64(bad) > max*float64(n):
		return fmt.Errorf("%d of %s unscored, errored or not evaluated (%.1f%%), above --max-error-rate %.1f%%",
			bad, eval.Nouns(n, "item"), 100*float64(bad)/float64(n), 100*max)
	}
	return nil
}

// missingGroups names the groups base scored items of and cand did not,
// with base's items in them.
func missingGroups(base, cand *Summary) ([]string, int) {
	scored := map[string]bool{}
	for _, t := range cand.ByType {
		if t.NScored > 0 {
			scored[t.QuestionType] = true
		}
	}
	var names []string
	items := 0
	for _, t := range base.ByType {
		if t.NScored > 0 && !scored[t.QuestionType] {
			names = append(names, t.QuestionType)
			items += t.N
		}
	}
	return names, items
}

// Gate compares cand against base and decides, as p says. It returns a
// *GateError when it cannot decide.
//
// A gate cannot pass on less than it was asked about: items a run skipped
// as bad input, and the items of a group the baseline scored but the
// candidate did not, count against completeness as unscored and errored
// items do.
func Gate(base, cand GateRun, p GatePolicy) (*GateDecision, error) {
	missing, missingItems := missingGroups(base.Summary, cand.Summary)
	for i, r := range []GateRun{base, cand} {
		extra := r.Skipped
		var why []string
		if r.Skipped > 0 {
			why = append(why, fmt.Sprintf("%s skipped as bad input", eval.Nouns(r.Skipped, "item")))
		}
		if i == 1 && missingItems > 0 {
			extra += missingItems
			why = append(why, fmt.Sprintf("no scored item of %s, which the baseline scored (%s)", strings.Join(missing, ", "), eval.Nouns(missingItems, "item")))
		}
		if err := checkComplete(r.Summary, extra, p.MaxErrorRate); err != nil {
			if len(why) > 0 {
				err = fmt.Errorf("%w, counting %s", err, strings.Join(why, " and "))
			}
			return nil, &GateError{Kind: "error-rate", Err: fmt.Errorf("%s: %w: resume or re-judge it before gating", r.Name, err)}
		}
	}
	c := Compare(base.Scores, cand.Scores, p.Compare)
	if c.Paired == 0 {
		return nil, &GateError{Kind: "unpaired", Err: errors.New("the runs share no scored items")}
	}
	gated, err := GatedColumns(p.Types, c)
	if err != nil {
		return nil, &GateError{Kind: "types", Err: err}
	}
	d := &GateDecision{Comparison: c, Gated: gated}
	if len(p.JudgeSD) > 0 {
		d.Widened = c.AddJudgeNoise(p.JudgeSD)
	}
	for _, r := range c.Rows {
		switch {
		case gated != nil && !gated(r.Group):
		case r.Small:
			d.Small = append(d.Small, r)
		default:
			d.Checked = append(d.Checked, r)
		}
	}
	if len(d.Checked) == 0 {
		var small []string
		for _, r := range d.Small {
			small = append(small, fmt.Sprintf("%s (%d)", r.Group, r.N))
		}
		return nil, &GateError{Kind: "nothing-gated", Decision: d, Err: fmt.Errorf("nothing gated: every gated column has fewer than --min-n %d paired items: %s", p.Compare.Thresholds.MinN, strings.Join(small, ", "))}
	}
	d.Regressed = c.Regressions(gated)
	return d, nil
}

// GatedColumns turns a --types list into a predicate over the columns of
// c: "avg" or "" (Avg micro), "all" (nil: every column), or a list of
// groups by name or the paper's abbreviation, with avg (or micro) and
// macro for the averages. Every name in a list must be a column of c.
func GatedColumns(spec string, c *Comparison) (func(string) bool, error) {
	spec = strings.TrimSpace(spec)
	switch strings.ToLower(spec) {
	case "all":
		return nil, nil
	case "":
		spec = "avg"
	}
	cols := make([]string, len(c.Rows))
	for i, r := range c.Rows {
		cols[i] = r.Group
	}
	want := map[string]bool{}
	var unknown []string
	for part := range strings.SplitSeq(spec, ",") {
		name := columnName(strings.TrimSpace(part))
		if !slices.Contains(cols, name) {
			unknown = append(unknown, strings.TrimSpace(part))
		}
		want[name] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("--types %q: %s not a column of this comparison (columns: %s)", spec, strings.Join(unknown, ", ")+map[bool]string{true: " is", false: " are"}[len(unknown) == 1], strings.Join(cols, ", "))
	}
	return func(g string) bool { return want[g] }, nil
}

// columnName reads one name of a --types list as a comparison column.
func columnName(p string) string {
	switch strings.ToLower(p) {
	case "avg", "micro":
		return AvgMicro
	case "macro":
		return AvgMacro
	}
	for full, abbr := range eval.QuestionTypeAbbrev {
		if strings.EqualFold(abbr, p) {
			return full
		}
	}
	return eval.NormalizeType(p)
}
