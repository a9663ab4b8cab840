package reports

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// A cell is one value, held exactly until it is printed.
type cell struct {
	v      stats.Pct // no value: printed as "-"
	ci     *stats.Interval
	n      int
	best   bool
	isDiff bool
}

// A table is the shape every renderer draws: a header of columns, rows of
// cells, and numbered footnotes.
type table struct {
	columns []string // full names
	short   []string // header labels for text, Markdown and LaTeX
	rows    []row
	notes   []string
	legend  string
}

type row struct {
	label string
	cells []cell
	paper bool
	diff  bool
	// corrected marks a run's judge-corrected row (report --calibrate).
	corrected bool
}

// build lays out runs as a table: one column per group, PSV2026's six
// types in the paper's order first, then Avg (micro) and Avg (macro).
func build(runs []Run, opts Options) *table {
	if opts.Dims {
		return buildDims(runs, opts)
	}
	var groups []string
	seen := map[string]bool{}
	if opts.Paper {
		for _, t := range eval.QuestionTypes {
			seen[t] = true
			groups = append(groups, t)
		}
	}
	for _, r := range runs {
		for _, t := range r.Summary.ByType {
			if !seen[t.QuestionType] {
				seen[t.QuestionType] = true
				groups = append(groups, t.QuestionType)
			}
		}
	}
	slices.SortStableFunc(groups, eval.TypeOrder)
	t := &table{}
	for _, g := range groups {
		t.columns = append(t.columns, g)
		t.short = append(t.short, shortName(g))
	}
	t.columns = append(t.columns, "Avg (micro)", "Avg (macro)")
	t.short = append(t.short, "Avg", "Macro")
	allPSV := true
	for _, g := range groups {
		if eval.QuestionTypeAbbrev[g] == "" {
			allPSV = false
		}
	}
	if allPSV && len(groups) > 0 {
		t.legend = legend(groups)
	}
	labels := rowLabels(runs)
	for ri, r := range runs {
		byType := map[string]stats.TypeStats{}
		for _, ts := range r.Summary.ByType {
			byType[ts.QuestionType] = ts
		}
		rw := row{label: labels[ri]}
		for _, g := range groups {
			ts, ok := byType[g]
			var c cell
			if ok && ts.NScored > 0 {
				c = cell{v: ts.Accuracy, n: ts.NScored}
				if opts.CI {
					c.ci = ts.CI
				}
			}
			rw.cells = append(rw.cells, c)
		}
		s := r.Summary
		var micro, macro cell
		if s.NScored > 0 {
			micro, macro = cell{v: s.AvgMicro, n: s.NScored}, cell{v: s.AvgMacro, n: s.NScored}
			if opts.CI {
				micro.ci, macro.ci = s.AvgMicroCI, s.AvgMacroCI
			}
		}
		rw.cells = append(rw.cells, micro, macro)
		t.rows = append(t.rows, rw)
	}
	addCalibrated(t, groups, runs, labels)
	if opts.Paper {
		addPaper(t, groups, runs)
	}
	markBest(t)
	t.notes = append(t.notes, warnings(runs)...)
	if opts.CI {
		for _, r := range runs {
			var one []string
			for _, ts := range r.Summary.ByType {
				if ts.NScored == 1 {
					one = append(one, shortName(ts.QuestionType))
				}
			}
			if len(one) > 0 {
				t.notes = append(t.notes, fmt.Sprintf("%s: no interval for %s, of one scored item", r.Label, strings.Join(one, ", ")))
			}
		}
	}
	t.notes = unique(t.notes)
	return t
}

// unique drops repeated strings, keeping the first of each.
func unique(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func shortName(g string) string {
	if a := eval.QuestionTypeAbbrev[g]; a != "" {
		return a
	}
	return g
}

func legend(groups []string) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = eval.QuestionTypeAbbrev[g] + " " + g
	}
	return strings.Join(parts, ", ") + "; Avg: instance-weighted (micro), as the paper's Avg.; Macro: mean of the types"
}

// rowLabels returns the runs' labels, each made unique by the run's
// directory name where two runs share a label.
func rowLabels(runs []Run) []string {
	count := map[string]int{}
	for _, r := range runs {
		count[r.Label]++
	}
	out := make([]string, len(runs))
	seen := map[string]int{}
	for i, r := range runs {
		out[i] = r.Label
		if count[r.Label] > 1 {
			suffix := filepath.Base(r.Dir)
			if r.Dir == "" {
				suffix = strconv.Itoa(i + 1)
			}
			out[i] = r.Label + " (" + suffix + ")"
		}
		// Two directories of the same name: number them too.
		if seen[out[i]]++; seen[out[i]] > 1 {
			out[i] += " #" + strconv.Itoa(seen[out[i]])
		}
	}
	return out
}

// markBest marks the highest value of each column among the runs and
// published rows (not the difference rows), as printed: values that print
// alike are equally best.
func markBest(t *table) {
	if len(t.rows) < 2 {
		return
	}
	for c := range t.columns {
		var best stats.Pct
		for _, r := range t.rows {
			if !r.diff && !r.corrected && r.cells[c].v.Valid() && (!best.Valid() || r.cells[c].v.Cmp(best) > 0) {
				best = r.cells[c].v
			}
		}
		if !best.Valid() {
			continue
		}
		for i := range t.rows {
			if v := t.rows[i].cells[c].v; !t.rows[i].diff && !t.rows[i].corrected && v.Valid() && v.Format(1) == best.Format(1) {
				t.rows[i].cells[c].best = true
			}
		}
	}
}

// warnings lists what the reader must know: runs whose manifests disagree
// on what was evaluated or how it was judged, and small groups.
func warnings(runs []Run) []string {
	// Notes name runs as their rows do: runs of one model are told apart
	// by their directories, so their notes neither read alike nor merge.
	labels := rowLabels(runs)
	labelled := make([]Run, len(runs))
	for i, r := range runs {
		r.Label = labels[i]
		labelled[i] = r
	}
	runs = labelled
	var notes []string
	var ref *Run
	for i := range runs {
		if runs[i].Manifest != nil {
			ref = &runs[i]
			break
		}
	}
	if ref != nil {
		for _, r := range runs {
			if r.Manifest == nil || &r == ref {
				continue
			}
			notes = append(notes, rundir.Explain(ref.Label, r.Label, rundir.Incomparable(ref.Manifest, r.Manifest))...)
		}
	}
	for _, r := range runs {
		if r.Manifest != nil {
			if n := r.Manifest.Dataset.SkippedNote(r.Label); n != "" {
				notes = append(notes, n)
			}
			notes = append(notes, r.Manifest.AliasNotes(r.Label)...)
		}
		if n := r.Summary.Truncated; n > 0 {
			notes = append(notes, fmt.Sprintf("warning: %s: %s cut off at max_tokens (finish_reason length) and scored as they stand: raise --max-tokens", r.Label, eval.Nouns(n, "answer")))
		}
		if c := r.Summary.Cost; c != nil {
			u := r.Summary.Usage.Judge
			notes = append(notes, fmt.Sprintf("%s: cost $%.4f (model $%.4f, judge $%.4f; judge tokens %d prompt, %d of them cached, %d completion)", r.Label, c.TotalUSD, c.ModelUSD, c.JudgeUSD, u.Prompt, u.Cached, u.Completion))
		}
		var small []string
		for _, ts := range r.Summary.ByType {
			if ts.NScored > 0 && ts.NScored < stats.DefaultThresholds.MinN {
				small = append(small, fmt.Sprintf("%s (%d)", shortName(ts.QuestionType), ts.NScored))
			}
		}
		if len(small) > 0 {
			notes = append(notes, fmt.Sprintf("%s: fewer than %d scored items in %s: small samples, never gated", r.Label, stats.DefaultThresholds.MinN, strings.Join(small, ", ")))
		}
		if n := DriftNote(r.Label, r.Summary); n != "" {
			notes = append(notes, n)
		}
		if n := designNote(r.Label, r.Summary); n != "" {
			notes = append(notes, n)
		}
		if ex := r.Summary.MacroExcludes; len(ex) > 0 && r.Summary.NScored > 0 {
			notes = append(notes, fmt.Sprintf("%s: Macro leaves out %s: no item of it was scored", r.Label, strings.Join(ex, ", ")))
		}
		if s := r.Summary; s.NUnscored+s.NErrors > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d unscored and %d errored of %s are excluded from accuracy", r.Label, s.NUnscored, s.NErrors, eval.Nouns(s.NItems, "item")))
		}
	}
	return notes
}

func buildDims(runs []Run, opts Options) *table {
	var dims []string
	seen := map[string]bool{}
	for _, r := range runs {
		for _, d := range r.Summary.Dims {
			if !seen[d.Dim] {
				seen[d.Dim] = true
				dims = append(dims, d.Dim)
			}
		}
	}
	slices.Sort(dims)
	t := &table{columns: append(slices.Clone(dims), "All met"), short: append(slices.Clone(dims), "All met")}
	for _, r := range runs {
		by := map[string]stats.DimStats{}
		for _, d := range r.Summary.Dims {
			by[d.Dim] = d
		}
		rw := row{label: r.Label}
		for _, d := range dims {
			var c cell
			if ds, ok := by[d]; ok && ds.N > 0 {
				c = cell{v: ds.Rate, n: ds.N}
			}
			rw.cells = append(rw.cells, c)
		}
		var am cell
		if r.Summary.NScored > 0 {
			am = cell{v: r.Summary.AllMet, n: r.Summary.NScored}
			if opts.CI {
				am.ci = r.Summary.AllMetCI
			}
		}
		rw.cells = append(rw.cells, am)
		t.rows = append(t.rows, rw)
	}
	markBest(t)
	t.legend = "pass rate per rubric dimension, in percent (a negative criterion passes when not met); All met: share of scored items passing every criterion"
	if opts.CI {
		t.legend += ", with a Wilson 95% interval"
	}
	return t
}

// value renders a cell's value by the one rounding rule (half away from
// zero, one decimal), with a sign on difference rows.
func (c cell) value() string {
	if c.isDiff {
		return stats.FormatSigned(c.v, 1)
	}
	return c.v.Format(1)
}

// interval renders a cell's interval, or "" when it has none.
func (c cell) interval() string {
	if c.ci == nil || !c.v.Valid() {
		return ""
	}
	return FormatInterval(*c.ci)
}

// format renders a cell as text: the value, then its interval.
func (c cell) format() string {
	if iv := c.interval(); iv != "" {
		return c.value() + " " + iv
	}
	return c.value()
}

// FormatInterval renders an interval as "[lo, hi]" by the one rounding
// rule.
func FormatInterval(i stats.Interval) string {
	return "[" + stats.FormatFloat(i.Lo, 1) + ", " + stats.FormatFloat(i.Hi, 1) + "]"
}

func (t *table) header() []string {
	return append([]string{"Model"}, t.short...)
}

func (t *table) strings() [][]string {
	out := make([][]string, len(t.rows))
	for i, r := range t.rows {
		line := []string{r.label}
		for _, c := range r.cells {
			line = append(line, c.format())
		}
		out[i] = line
	}
	return out
}

// designNote says, when the items share images and that widens the
// intervals (a design effect over 1.2 on some column), how much: intervals
// resample the clusters, not the items.
func designNote(label string, s *stats.Summary) string {
	if s.Bootstrap == nil || s.Bootstrap.Clusters == 0 {
		return ""
	}
	worst, where := 0.0, ""
	check := func(d *float64, col string) {
		if d != nil && *d > worst {
			worst, where = *d, col
		}
	}
	check(s.AvgMicroDeff, "Avg")
	check(s.AvgMacroDeff, "Macro")
	for _, t := range s.ByType {
		check(t.DesignEffect, shortName(t.QuestionType))
	}
	if worst <= 1.2 {
		return ""
	}
	return fmt.Sprintf("%s: items share images: intervals resample %d clusters, not %d items; design effect up to %s (%s): the variance is that many times an item bootstrap's",
		label, s.Bootstrap.Clusters, s.NScored, stats.FormatFloat(worst, 2), where)
}
