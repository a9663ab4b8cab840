package reports

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/psveval/psveval/eval/stats"
)

// GateNotes are the footnotes a gate decision adds under its table: the
// judge noise measured in noiseDir, if any, and the groups too small to
// gate.
func GateNotes(d *stats.GateDecision, noise *stats.JudgeNoise, noiseDir string, minN int) []string {
	var notes []string
	switch {
	case len(d.Widened) > 0:
		notes = append(notes, fmt.Sprintf("judge noise from %s (%d repeats): the shift it shares across items added to the intervals of %s (its noise independent per item is in the paired intervals already); p is the larger of the bootstrap's and the normal's with the widened spread", noiseDir, noise.Repeats, strings.Join(d.Widened, ", ")))
	case noise != nil:
		notes = append(notes, fmt.Sprintf("judge noise from %s (%d repeats): it shares no shift across items, so the paired intervals, which resample the items' own noise, hold it already: nothing added", noiseDir, noise.Repeats))
	}
	for _, r := range d.Small {
		notes = append(notes, fmt.Sprintf("warning: %s has %d paired items, fewer than --min-n %d: it is not gated", r.Group, r.N, minN))
	}
	return notes
}

// AppendStepSummary appends the gate's verdict and comparison, as
// Markdown, to a GitHub Actions step summary file.
func AppendStepSummary(path, verdict string, cr *ComparisonReport) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "### psveval gate\n\n**%s**\n\n", strings.TrimPrefix(verdict, "gate: "))
	err = cr.Render(f, "markdown")
	return errors.Join(err, f.Close())
}
