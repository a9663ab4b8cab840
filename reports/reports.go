package reports

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/tw"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// A Run is one row of a report: a label and the run's summary, with its
// manifest when known. Dir, when set, tells apart runs whose labels are
// equal: their rows are labelled "label (dir)".
type Run struct {
	Label    string
	Dir      string
	Summary  *stats.Summary
	Manifest *rundir.Manifest
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
	// Width is the number of columns a text report must fit in (0:
	// DefaultWidth).
	Width int
}

// DefaultWidth is the width of a text report written to something other
// than a terminal.
const DefaultWidth = 100

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
			if !r.diff && r.cells[c].v.Valid() && (!best.Valid() || r.cells[c].v.Cmp(best) > 0) {
				best = r.cells[c].v
			}
		}
		if !best.Valid() {
			continue
		}
		for i := range t.rows {
			if v := t.rows[i].cells[c].v; !t.rows[i].diff && v.Valid() && v.Format(1) == best.Format(1) {
				t.rows[i].cells[c].best = true
			}
		}
	}
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

// Text renders a table with tablewriter, for terminals.
type Text struct{}

// Report renders runs in the first layout that fits opts.Width: one row
// per run with each interval beside its value; one row per run with the
// intervals on a second line; one row per group with a column per run;
// one row per run and group. Where labels are so long that none fits,
// rows are labelled R1, R2, ... with the full labels listed below. Legend
// and notes are wrapped to the width.
func (Text) Report(w io.Writer, runs []Run, opts Options) error {
	t := build(runs, opts)
	width := cmp.Or(opts.Width, DefaultWidth)
	var b strings.Builder
	if opts.Title != "" {
		b.WriteString(opts.Title + "\n")
	}
	table, err := t.fit(width)
	if err != nil {
		return err
	}
	var key []string
	if maxWidth(table) > width {
		for i := range t.rows {
			key = append(key, fmt.Sprintf("R%d: %s", i+1, t.rows[i].label))
			t.rows[i].label = fmt.Sprintf("R%d", i+1)
		}
		if table, err = t.fit(width); err != nil {
			return err
		}
	}
	b.WriteString(table)
	for _, k := range key {
		b.WriteString(wrap(k, width, "    "))
	}
	if t.legend != "" {
		b.WriteString(wrap(t.legend, width, ""))
	}
	for i, n := range t.notes {
		b.WriteString(wrap(fmt.Sprintf("[%d] %s", i+1, n), width, "    "))
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// fit renders t in the first layout that fits width, or the last.
func (t *table) fit(width int) (string, error) {
	var table string
	for _, layout := range []func() (header []string, rows [][]string){t.wide, t.twoLine, t.byGroup, t.long} {
		h, rows := layout()
		var tb strings.Builder
		if err := render(&tb, h, rows, tw.AlignRight); err != nil {
			return "", err
		}
		if table = tb.String(); maxWidth(table) <= width {
			break
		}
	}
	return table, nil
}

// maxWidth returns the widest line of s, in runes.
func maxWidth(s string) int {
	m := 0
	for l := range strings.Lines(s) {
		m = max(m, utf8.RuneCountInString(strings.TrimRight(l, "\n")))
	}
	return m
}

// wrap breaks s into lines of at most width runes at spaces (a longer word
// stands alone), indenting the lines after the first; every line ends
// with a newline.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := ""
	for word := range strings.FieldsSeq(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			b.WriteString(line + "\n")
			line = indent + word
		}
	}
	b.WriteString(line + "\n")
	return b.String()
}

// wide lays out one row per run, each interval beside its value.
func (t *table) wide() ([]string, [][]string) { return t.header(), t.strings() }

// twoLine lays out one row per run, with a second row holding the
// intervals of a run that has any.
func (t *table) twoLine() ([]string, [][]string) {
	var rows [][]string
	for _, r := range t.rows {
		vals, ivs := []string{r.label}, []string{""}
		has := false
		for _, c := range r.cells {
			vals = append(vals, c.value())
			iv := c.interval()
			has = has || iv != ""
			ivs = append(ivs, iv)
		}
		rows = append(rows, vals)
		if has {
			rows = append(rows, ivs)
		}
	}
	return t.header(), rows
}

// byGroup lays out one row per group, one column per run.
func (t *table) byGroup() ([]string, [][]string) {
	head := []string{""}
	for _, r := range t.rows {
		head = append(head, r.label)
	}
	rows := make([][]string, len(t.short))
	for c, name := range t.short {
		rows[c] = []string{name}
		for _, r := range t.rows {
			rows[c] = append(rows[c], r.cells[c].format())
		}
	}
	return head, rows
}

// long lays out one row per run and group.
func (t *table) long() ([]string, [][]string) {
	var rows [][]string
	for _, r := range t.rows {
		for c, name := range t.short {
			cl := r.cells[c]
			n := ""
			if cl.n > 0 {
				n = strconv.Itoa(cl.n)
			}
			rows = append(rows, []string{r.label, name, cl.value(), cl.interval(), n})
		}
	}
	return []string{"Model", "Group", "Value", "95% CI", "n"}, rows
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
			s := latexEscape(c.value())
			if iv := c.interval(); iv != "" {
				s += " {\\scriptsize" + latexEscape(iv) + "}"
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
		b.WriteString("% " + ascii(t.legend) + "\n")
	}
	for i, n := range t.notes {
		fmt.Fprintf(&b, "%% [%d] %s\n", i+1, ascii(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// latexEscape makes s plain ASCII LaTeX that pdflatex compiles: special
// characters escaped, the symbols the tables use spelled in math mode,
// and any other non-ASCII character replaced by "?".
func latexEscape(s string) string {
	return ascii(latexSpecial.Replace(s))
}

var latexSpecial = strings.NewReplacer(`\`, `\textbackslash{}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`, "_", `\_`, "{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`,
	"Δ", `$\Delta$`, "−", `$-$`, "α", `$\alpha$`, "κ", `$\kappa$`, "λ", `$\lambda$`, "θ", `$\theta$`, "≥", `$\geq$`, "≤", `$\leq$`, "±", `$\pm$`, "–", "--", "—", "---")

// ascii replaces every non-ASCII rune of s that has no LaTeX spelling:
// the symbols above become their math-mode forms, others "?".
func ascii(s string) string {
	s = latexSymbols.Replace(s)
	return strings.Map(func(r rune) rune {
		if r > 126 || (r < 32 && r != '\t') {
			return '?'
		}
		return r
	}, s)
}

var latexSymbols = strings.NewReplacer("Δ", `$\Delta$`, "−", `$-$`, "α", `$\alpha$`, "κ", `$\kappa$`, "λ", `$\lambda$`, "θ", `$\theta$`, "≥", `$\geq$`, "≤", `$\leq$`, "±", `$\pm$`, "–", "--", "—", "---", "·", "*", "→", "->")

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
			if c.v.Valid() {
				v = c.value()
			}
			line = append(line, v)
			if opts.CI {
				lo, hi := "", ""
				if c.ci != nil && c.v.Valid() {
					lo, hi = stats.FormatFloat(c.ci.Lo, 1), stats.FormatFloat(c.ci.Hi, 1)
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
		Label   string               `json:"label"`
		Paper   bool                 `json:"published,omitempty"`
		Diff    bool                 `json:"difference,omitempty"`
		Columns map[string]stats.Pct `json:"columns"`
		Summary *stats.Summary       `json:"summary,omitempty"`
	}
	out := struct {
		Columns []string  `json:"columns"`
		Rows    []jsonRun `json:"rows"`
		Notes   []string  `json:"notes"`
	}{Columns: t.columns, Notes: append([]string{}, t.notes...)}
	for i, r := range t.rows {
		jr := jsonRun{Label: r.label, Paper: r.paper, Diff: r.diff, Columns: map[string]stats.Pct{}}
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

// DriftNote says that the judge changed during the run labelled label
// (its served model or system_fingerprint), with the items each judged,
// or "" when it did not.
func DriftNote(label string, s *stats.Summary) string {
	js := s.JudgeServed
	if len(js) < 2 {
		return ""
	}
	parts := make([]string, len(js))
	for i, c := range js {
		parts[i] = fmt.Sprintf("%q judged %s", c.Served, eval.Nouns(c.Items, "item"))
	}
	return fmt.Sprintf("warning: %s: the judge changed during the run (served model or system_fingerprint): %s", label, strings.Join(parts, ", "))
}
