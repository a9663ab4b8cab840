package reports

import (
	"encoding/json"
	"io"

	"github.com/psveval/psveval/eval/stats"
)

// JSON renders the table and each run's summary, for machines.
type JSON struct{}

// Report renders runs.
func (JSON) Report(w io.Writer, runs []Run, opts Options) error {
	t := build(runs, opts)
	type jsonRun struct {
		Label string `json:"label"`
		Paper bool   `json:"published,omitempty"`
		Diff  bool   `json:"difference,omitempty"`
		// Corrected marks a judge-corrected row; its run's summary
		// holds the estimate, under "calibrated".
		Corrected bool                 `json:"corrected,omitempty"`
		Columns   map[string]stats.Pct `json:"columns"`
		Summary   *stats.Summary       `json:"summary,omitempty"`
	}
	out := struct {
		Columns []string  `json:"columns"`
		Rows    []jsonRun `json:"rows"`
		Notes   []string  `json:"notes"`
	}{Columns: t.columns, Notes: append([]string{}, t.notes...)}
	for i, r := range t.rows {
		jr := jsonRun{Label: r.label, Paper: r.paper, Diff: r.diff, Corrected: r.corrected, Columns: map[string]stats.Pct{}}
		for c, cl := range r.cells {
			jr.Columns[t.columns[c]] = cl.v
		}
		if !r.paper && !r.diff && i < len(runs) {
			jr.Summary = runs[i].Summary
		}
		out.Rows = append(out.Rows, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
