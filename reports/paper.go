package reports

import (
	"fmt"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/stats"
)

// A PaperRow is a published row of the MOFT paper's PSV2026 table, its
// values exact decimals as printed.
type PaperRow struct {
	Name string
	// ByType holds the six accuracies in eval.QuestionTypes order.
	ByType [6]stats.Pct
	// Avg is the published Avg. It is not the mean of the six columns.
	Avg stats.Pct
}

func paperRow(name string, avg string, types ...string) PaperRow {
	p := PaperRow{Name: name, Avg: stats.MustPct(avg)}
	for i, v := range types {
		p.ByType[i] = stats.MustPct(v)
	}
	return p
}

// Paper holds the three published rows.
var Paper = []PaperRow{
	paperRow("Lingshu-7B", "54.3", "61.5", "78.9", "67.2", "54.4", "43.4", "63.1"),
	paperRow("+SFT", "63.0", "71.1", "84.2", "74.8", "64.1", "51.7", "72.8"),
	paperRow("MOFT-Lingshu-7B", "65.5", "73.1", "86.1", "76.9", "66.1", "54.9", "72.5"),
}

// PaperRowFor returns the published row a run label is compared with: the
// MOFT row for labels naming MOFT, the +SFT row for labels naming SFT, and
// the zero-shot Lingshu-7B row otherwise.
func PaperRowFor(label string) PaperRow {
	l := strings.ToLower(label)
	switch {
	case strings.Contains(l, "moft"):
		return Paper[2]
	case strings.Contains(l, "sft"):
		return Paper[1]
	}
	return Paper[0]
}

// notPSV lists, for each run not grouped by PSV2026's six question types,
// why: the column it is grouped by, or the groups that are not the six.
func notPSV(runs []Run) []string {
	var out []string
	for _, r := range runs {
		if by := r.Summary.GroupBy; by != "" && by != "question_type" {
			out = append(out, r.Label+" is grouped by "+by)
			continue
		}
		var odd []string
		for _, ts := range r.Summary.ByType {
			if eval.QuestionTypeAbbrev[ts.QuestionType] == "" {
				odd = append(odd, ts.QuestionType)
			}
		}
		if len(odd) > 0 {
			if len(odd) > 4 {
				odd = append(odd[:4:4], fmt.Sprintf("and %d more", len(odd)-4))
			}
			out = append(out, r.Label+" has types "+strings.Join(odd, ", "))
		}
	}
	return out
}

// missingTypes lists the PSV2026 types a run scored no item of.
func missingTypes(s *stats.Summary) []string {
	scored := map[string]bool{}
	for _, t := range s.ByType {
		if t.NScored > 0 {
			scored[t.QuestionType] = true
		}
	}
	var out []string
	for _, typ := range eval.QuestionTypes {
		if !scored[typ] {
			out = append(out, eval.QuestionTypeAbbrev[typ])
		}
	}
	return out
}

// addPaper appends the published rows, then one difference row per run.
// Published values fill the six PSV2026 columns and the Avg (micro)
// column, since the paper's Avg. is instance-weighted; macro is left
// empty.
func addPaper(t *table, groups []string, runs []Run) {
	col := map[string]int{}
	for i, g := range groups {
		col[g] = i
	}
	micro := len(groups)
	paperCells := func(p PaperRow) []cell {
		cells := make([]cell, len(t.columns))
		for k, typ := range eval.QuestionTypes {
			cells[col[typ]] = cell{v: p.ByType[k]}
		}
		cells[micro] = cell{v: p.Avg}
		return cells
	}
	for _, p := range Paper {
		t.rows = append(t.rows, row{label: p.Name + " (paper)", cells: paperCells(p), paper: true})
	}
	if other := notPSV(runs); len(other) > 0 {
		t.notes = append(t.notes, "warning: the paper's rows describe PSV2026, whose question types are its six; "+strings.Join(other, "; ")+": no difference row is printed")
		return
	}
	for i, r := range runs {
		if missing := missingTypes(r.Summary); len(missing) > 0 {
			t.notes = append(t.notes, fmt.Sprintf("warning: %s scored no item of %s: its Avg covers only some of the paper's six types, so its Δ Avg compares different things", r.Label, strings.Join(missing, ", ")))
		}
		p := PaperRowFor(r.Label)
		pc := paperCells(p)
		d := row{label: "Δ " + t.rows[i].label + " − " + p.Name, diff: true}
		for c, rc := range t.rows[i].cells {
			d.cells = append(d.cells, cell{v: rc.v.Sub(pc[c].v), isDiff: true})
		}
		t.rows = append(t.rows, d)
	}
	t.notes = append(t.notes, "paper rows: the MOFT paper's PSV2026 table; its Avg. (e.g. 54.3) is not the mean of its six columns (61.4), so it is shown as the instance-weighted Avg; Δ rows subtract the published value from the run's exact value, rounded once")
}
