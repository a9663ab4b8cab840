package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/tw"

	"github.com/psveval/psveval/eval"
)

// A Run is one row of a report: a label and the run's summary, with its
// manifest when known.
type Run struct {
	Label    string
	Summary  *eval.Summary
	Manifest *eval.Manifest
}

// Options configure a report.
type Options struct {
	// CI adds 95% intervals to accuracies.
	CI bool
	// Paper adds the paper's published rows and each run's difference
	// from the published row it matches (see [PaperRowFor]).
	Paper bool
	// Dims reports pass rates per rubric dimension instead of per group.
	Dims bool
	// Title is printed above text and Markdown tables.
	Title string
}

// A Reporter renders runs.
type Reporter interface {
	Report(w io.Writer, runs []Run, opts Options) error
}

// Formats lists the report formats by name.
var Formats = []string{"text", "markdown", "latex", "csv", "json"}

// ByName returns the reporter for a format name.
func ByName(name string) (Reporter, error) {
	switch name {
	case "text":
		return Text{}, nil
	case "markdown", "md":
		return Markdown{}, nil
	case "latex", "tex":
		return LaTeX{}, nil
	case "csv":
		return CSV{}, nil
	case "json":
		return JSON{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", name, strings.Join(Formats, ", "))
}

// A cell is one formatted value.
type cell struct {
	v      float64 // NaN for none
	ci     *eval.Interval
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
}

// build lays out runs as a table: one column per group, PSV2026's six
// types in the paper's order first, then Avg (micro) and Avg (macro).
func build(runs []Run, opts Options) *table {
	if opts.Dims {
		return buildDims(runs)
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
	for _, r := range runs {
		byType := map[string]eval.TypeStats{}
		for _, ts := range r.Summary.ByType {
			byType[ts.QuestionType] = ts
		}
		rw := row{label: r.Label}
		for _, g := range groups {
			ts, ok := byType[g]
			c := cell{v: math.NaN()}
			if ok && ts.NScored > 0 {
				c = cell{v: ts.Accuracy, n: ts.NScored}
				if opts.CI && r.Summary.Bootstrap.Resamples > 0 {
					c.ci = &ts.CI
				}
			}
			rw.cells = append(rw.cells, c)
		}
		s := r.Summary
		micro, macro := cell{v: math.NaN()}, cell{v: math.NaN()}
		if s.NScored > 0 {
			micro, macro = cell{v: s.AvgMicro, n: s.NScored}, cell{v: s.AvgMacro, n: s.NScored}
			if opts.CI && s.Bootstrap.Resamples > 0 {
				micro.ci, macro.ci = &s.AvgMicroCI, &s.AvgMacroCI
			}
		}
		rw.cells = append(rw.cells, micro, macro)
		t.rows = append(t.rows, rw)
	}
	if opts.Paper {
		addPaper(t, groups, runs)
	}
	markBest(t)
	t.notes = append(t.notes, warnings(runs)...)
	return t
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

// markBest marks the highest value of each column among the runs and
// published rows (not the difference rows).
func markBest(t *table) {
	for c := range t.columns {
		best := math.Inf(-1)
		for _, r := range t.rows {
			if !r.diff && !math.IsNaN(r.cells[c].v) {
				best = max(best, round1(r.cells[c].v))
			}
		}
		if len(t.rows) < 2 {
			continue
		}
		for i := range t.rows {
			if !t.rows[i].diff && round1(t.rows[i].cells[c].v) == best {
				t.rows[i].cells[c].best = true
			}
		}
	}
}

// round1 rounds x to one decimal exactly as the tables print it (%.1f
// rounds exact ties to even), so that a difference from a published value
// is the difference of the printed numbers.
func round1(x float64) float64 {
	if math.IsNaN(x) {
		return x
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 1, 64), 64)
	return v
}

// warnings lists what the reader must know: runs whose manifests disagree
// on what was evaluated or how it was judged, and small groups.
func warnings(runs []Run) []string {
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
			m := r.Manifest
			if m == nil || &r == ref {
				continue
			}
			rm := ref.Manifest
			if m.Dataset.Fingerprint != rm.Dataset.Fingerprint {
				notes = append(notes, fmt.Sprintf("%s was evaluated on other items than %s (dataset fingerprint %s vs %s): their numbers are not comparable", r.Label, ref.Label, short(m.Dataset.Fingerprint), short(rm.Dataset.Fingerprint)))
			}
			if m.Dataset.DefaultRubric.SHA256 != rm.Dataset.DefaultRubric.SHA256 {
				notes = append(notes, fmt.Sprintf("%s used another default rubric than %s", r.Label, ref.Label))
			}
			if judgeID(m) != judgeID(rm) {
				notes = append(notes, fmt.Sprintf("%s was judged differently from %s (%s vs %s)", r.Label, ref.Label, judgeID(m), judgeID(rm)))
			}
			if m.Scoring.Rule != rm.Scoring.Rule {
				notes = append(notes, fmt.Sprintf("%s was scored by rule %q, %s by %q", r.Label, m.Scoring.Rule, ref.Label, rm.Scoring.Rule))
			}
		}
	}
	for _, r := range runs {
		var small []string
		for _, ts := range r.Summary.ByType {
			if ts.NScored > 0 && ts.NScored < eval.DefaultThresholds.MinN {
				small = append(small, fmt.Sprintf("%s (%d)", shortName(ts.QuestionType), ts.NScored))
			}
		}
		if len(small) > 0 {
			notes = append(notes, fmt.Sprintf("%s: fewer than %d scored items in %s: wide intervals, never gated", r.Label, eval.DefaultThresholds.MinN, strings.Join(small, ", ")))
		}
		if s := r.Summary; s.NUnscored+s.NErrors > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d unscored and %d errored items of %d are excluded from accuracy", r.Label, s.NUnscored, s.NErrors, s.NItems))
		}
	}
	return notes
}

func judgeID(m *eval.Manifest) string {
	var parts []string
	for _, j := range m.Judges {
		parts = append(parts, fmt.Sprintf("%s/%s/%s", j.Model, j.Mode, short(j.Prompt.SHA256)))
	}
	return strings.Join(parts, "+")
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func buildDims(runs []Run) *table {
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
		by := map[string]eval.DimStats{}
		for _, d := range r.Summary.Dims {
			by[d.Dim] = d
		}
		rw := row{label: r.Label}
		for _, d := range dims {
			c := cell{v: math.NaN()}
			if ds, ok := by[d]; ok && ds.N > 0 {
				c = cell{v: ds.Rate, n: ds.N}
			}
			rw.cells = append(rw.cells, c)
		}
		am := cell{v: math.NaN()}
		if r.Summary.NScored > 0 {
			am = cell{v: r.Summary.AllMet, n: r.Summary.NScored, ci: &r.Summary.AllMetCI}
		}
		rw.cells = append(rw.cells, am)
		t.rows = append(t.rows, rw)
	}
	markBest(t)
	t.legend = "pass rate per rubric dimension, in percent (a negative criterion passes when not met); All met: share of scored items passing every criterion, with a Wilson 95% interval"
	return t
}

// format renders a cell as text.
func (c cell) format() string {
	if math.IsNaN(c.v) {
		return "-"
	}
	s := fmt.Sprintf("%.1f", c.v)
	if c.isDiff {
		s = fmt.Sprintf("%+.1f", c.v)
		if s == "-0.0" {
			s = "+0.0"
		}
	}
	if c.ci != nil {
		s += fmt.Sprintf(" [%.1f, %.1f]", c.ci.Lo, c.ci.Hi)
	}
	return s
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

// Text renders a table with tablewriter, for terminals.
type Text struct{}

// Report renders runs.
func (Text) Report(w io.Writer, runs []Run, opts Options) error {
	t := build(runs, opts)
	if opts.Title != "" {
		if _, err := fmt.Fprintln(w, opts.Title); err != nil {
			return err
		}
	}
	if err := render(w, t.header(), t.strings(), tw.AlignRight); err != nil {
		return err
	}
	return writeNotes(w, t, "")
}

func writeNotes(w io.Writer, t *table, prefix string) error {
	if t.legend != "" {
		if _, err := fmt.Fprintf(w, "%s%s\n", prefix, t.legend); err != nil {
			return err
		}
	}
	for i, n := range t.notes {
		if _, err := fmt.Fprintf(w, "%s[%d] %s\n", prefix, i+1, n); err != nil {
			return err
		}
	}
	return nil
}

// Markdown renders a GitHub table, for PR comments and $GITHUB_STEP_SUMMARY.
type Markdown struct{}

// Report renders runs.
func (Markdown) Report(w io.Writer, runs []Run, opts Options) error {
	t := build(runs, opts)
	var b strings.Builder
	if opts.Title != "" {
		b.WriteString("### " + opts.Title + "\n\n")
	}
	b.WriteString("| " + strings.Join(t.header(), " | ") + " |\n")
	b.WriteString("|---" + strings.Repeat("|---:", len(t.short)) + "|\n")
	for _, r := range t.rows {
		b.WriteString("| " + escapeMD(r.label))
		for _, c := range r.cells {
			s := c.format()
			if c.best {
				s = "**" + s + "**"
			}
			b.WriteString(" | " + s)
		}
		b.WriteString(" |\n")
	}
	if t.legend != "" || len(t.notes) > 0 {
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if t.legend != "" {
		if _, err := fmt.Fprintf(w, "%s\n\n", t.legend); err != nil {
			return err
		}
	}
	for i, n := range t.notes {
		if _, err := fmt.Fprintf(w, "%d. %s\n", i+1, escapeMD(n)); err != nil {
			return err
		}
	}
	return nil
}

func escapeMD(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// LaTeX renders a booktabs tabular with the best value per column in bold.
type LaTeX struct{}

// Report renders runs.
func (LaTeX) Report(w io.Writer, runs []Run, opts Options) error {
	t := build(runs, opts)
	var b strings.Builder
	b.WriteString("% requires \\usepackage{booktabs}\n")
	b.WriteString("\\begin{tabular}{l" + strings.Repeat("r", len(t.short)) + "}\n\\toprule\n")
	head := []string{"Model"}
	for _, s := range t.short {
		head = append(head, latexEscape(s))
	}
	b.WriteString(strings.Join(head, " & ") + " \\\\\n\\midrule\n")
	for i, r := range t.rows {
		if r.paper && (i == 0 || !t.rows[i-1].paper) && i > 0 {
			b.WriteString("\\midrule\n")
		}
		parts := []string{latexEscape(r.label)}
		for _, c := range r.cells {
			s := c.format()
			if c.ci != nil {
				s = fmt.Sprintf("%.1f {\\scriptsize[%.1f, %.1f]}", c.v, c.ci.Lo, c.ci.Hi)
			}
			if c.best {
				s = "\\textbf{" + s + "}"
			}
			parts = append(parts, s)
		}
		b.WriteString(strings.Join(parts, " & ") + " \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	if t.legend != "" {
		b.WriteString("% " + t.legend + "\n")
	}
	for i, n := range t.notes {
		fmt.Fprintf(&b, "%% [%d] %s\n", i+1, n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func latexEscape(s string) string {
	r := strings.NewReplacer(`\`, `\textbackslash{}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`, "_", `\_`, "{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`)
	return r.Replace(s)
}

// CSV renders one row per run with a value, interval and n per column.
type CSV struct{}

// Report renders runs.
func (CSV) Report(w io.Writer, runs []Run, opts Options) error {
	t := build(runs, opts)
	cw := csv.NewWriter(w)
	head := []string{"model"}
	for _, c := range t.columns {
		head = append(head, c)
		if opts.CI {
			head = append(head, c+" lo", c+" hi")
		}
		head = append(head, c+" n")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range t.rows {
		line := []string{r.label}
		for _, c := range r.cells {
			v := ""
			if !math.IsNaN(c.v) {
				v = fmt.Sprintf("%.4f", c.v)
			}
			line = append(line, v)
			if opts.CI {
				lo, hi := "", ""
				if c.ci != nil {
					lo, hi = fmt.Sprintf("%.4f", c.ci.Lo), fmt.Sprintf("%.4f", c.ci.Hi)
				}
				line = append(line, lo, hi)
			}
			line = append(line, fmt.Sprint(c.n))
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// JSON renders the table and each run's summary, for machines.
type JSON struct{}

// Report renders runs.
func (JSON) Report(w io.Writer, runs []Run, opts Options) error {
	t := build(runs, opts)
	type jsonRun struct {
		Label   string              `json:"label"`
		Paper   bool                `json:"published,omitempty"`
		Diff    bool                `json:"difference,omitempty"`
		Columns map[string]*float64 `json:"columns"`
		Summary *eval.Summary       `json:"summary,omitempty"`
	}
	out := struct {
		Columns []string  `json:"columns"`
		Rows    []jsonRun `json:"rows"`
		Notes   []string  `json:"notes"`
	}{Columns: t.columns, Notes: append([]string{}, t.notes...)}
	for i, r := range t.rows {
		jr := jsonRun{Label: r.label, Paper: r.paper, Diff: r.diff, Columns: map[string]*float64{}}
		for c, cl := range r.cells {
			if !math.IsNaN(cl.v) {
				v := cl.v
				jr.Columns[t.columns[c]] = &v
			} else {
				jr.Columns[t.columns[c]] = nil
			}
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
