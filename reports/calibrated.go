package reports

import (
	"fmt"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/stats"
)

// addCalibrated adds, after the runs' rows, a "corrected" row for each
// run with a judge-corrected accuracy (report --calibrate), every cell
// with its interval, and notes on the method, the labels and the groups
// left raw.
func addCalibrated(t *table, groups []string, runs []Run, labels []string) {
	for ri, r := range runs {
		c := r.Summary.Calibrated
		if c == nil {
			continue
		}
		byType := map[string]stats.CalibratedType{}
		for _, ct := range c.ByType {
			byType[ct.QuestionType] = ct
		}
		rw := row{label: labels[ri] + " (corrected)", corrected: true}
		for _, g := range groups {
			var cl cell
			if ct, ok := byType[g]; ok && ct.Corrected {
				cl = cell{v: ct.Accuracy, ci: ct.CI, n: ct.NLabelled}
			}
			rw.cells = append(rw.cells, cl)
		}
		rw.cells = append(rw.cells,
			cell{v: c.AvgMicro, ci: c.AvgMicroCI, n: c.NLabelled},
			cell{v: c.AvgMacro, ci: c.AvgMacroCI, n: c.NLabelled})
		t.rows = append(t.rows, rw)
		t.notes = append(t.notes, CalibratedNotes(labels[ri], c)...)
	}
}

// CalibratedNotes are the footnotes of a run's judge-corrected row: the
// method and labels, then the groups left raw and the warnings.
func CalibratedNotes(label string, c *stats.Calibrated) []string {
	notes := []string{fmt.Sprintf("%s (corrected): what the labellers would mark, from %s in %d clusters (%s) and the judge's marks on every scored item, by %s; λ %s; %g%% intervals include the labels' own uncertainty",
		label, eval.Nouns(c.NLabelled, "labelled item"), c.NClusters, c.Design, c.Method, stats.FormatFloat(c.Lambda, 2), 100*c.Level)}
	var raw []string
	for _, ct := range c.ByType {
		if !ct.Corrected {
			raw = append(raw, fmt.Sprintf("%s (%s; raw %s)", shortName(ct.QuestionType), ct.Why, ct.Raw.Format(1)))
		}
	}
	if len(raw) > 0 {
		macro := ""
		if !c.AvgMacro.Valid() {
			macro = ", so Avg (macro) is not corrected either"
		}
		notes = append(notes, fmt.Sprintf("%s (corrected): raw only for %s%s", label, strings.Join(raw, "; "), macro))
	}
	for _, w := range c.Warnings {
		notes = append(notes, "warning: "+label+" (corrected): "+w)
	}
	return notes
}
