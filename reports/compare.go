package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/tw"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// A ComparisonReport is a comparison with the labels of its two runs and,
// for a gate, which rows are gated.
type ComparisonReport struct {
	Base, Cand string
	C          *stats.Comparison
	// Gated, when set, marks the rows a gate checks.
	Gated func(group string) bool
	Notes []string
	// Width is the number of columns the text rendering must fit in (0:
	// DefaultWidth).
	Width int
}

// Delta formats a row's difference by the one rounding rule, with a sign,
// and marks it "~" when it is not significant, as benchstat does: the
// estimate stays visible ("-2.6~").
func Delta(r stats.CompareRow) string {
	s := stats.FormatSigned(r.Delta, 1)
	if !r.Significant {
		s += "~"
	}
	return s
}

// SignedInterval formats a difference's interval: "[-3.1, -0.4]".
func SignedInterval(i stats.Interval) string {
	return "[" + stats.FormatFloatSigned(i.Lo, 1) + ", " + stats.FormatFloatSigned(i.Hi, 1) + "]"
}

// FormatP formats a p-value to three places, or as "<0.001".
func FormatP(p float64, resamples int) string {
	if resamples > 0 {
		// tail is how many resamples lie beyond zero on the smaller side:
		// p = 2·tail/B. With few of them the true p is known only to lie
		// under about 2·(tail + 2 + 1.96·√(tail+1))/B (a 95% bound), so a
		// p of 1 in 2,000 resamples prints as "<0.005", not 0.001.
		tail := math.Round(p * float64(resamples) / 2)
		if tail < 5 {
			bound := 2 * (tail + 2 + 1.96*math.Sqrt(tail+1)) / float64(resamples)
			return "<" + roundUp(bound)
		}
	}
	if p < 0.001 {
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// roundUp renders x rounded up to one significant figure: 0.00396 as
// 0.004.
func roundUp(x float64) string {
	if x <= 0 {
		return "0"
	}
	e := math.Floor(math.Log10(x))
	m := math.Ceil(x/math.Pow(10, e) - 1e-9)
	v := m * math.Pow(10, e)
	return strconv.FormatFloat(v, 'f', max(0, int(-e)), 64)
}

func (cr *ComparisonReport) rows() (header []string, rows [][]string) {
	return cr.layout(false)
}

// layout lays out the comparison's rows; narrow names the runs "base" and
// "cand", the averages "Avg" and "Macro", and leaves gating out of the
// verdicts, for the footer to say.
func (cr *ComparisonReport) layout(narrow bool) (header []string, rows [][]string) {
	header = []string{"group", "n", cr.Base, cr.Cand, "Δ", levelName(cr.C.Bootstrap.Level) + " CI", "p", "verdict"}
	if narrow {
		header[2], header[3] = "base", "cand"
	}
	for _, r := range cr.C.Rows {
		verdict := ""
		switch {
		case r.Regressed:
			verdict = "REGRESSED"
		case r.Small:
			verdict = "too few"
		case r.Significant && r.Delta.Sign() > 0:
			verdict = "improved"
		case r.Significant:
			verdict = "worse, within max drop"
		}
		if cr.Gated != nil && cr.Gated(r.Group) && !narrow {
			verdict = strings.TrimSpace("gated " + verdict)
		}
		group := shortName(r.Group)
		if narrow {
			group = strings.NewReplacer("Avg (micro)", "Avg", "Avg (macro)", "Macro").Replace(group)
		}
		rows = append(rows, []string{
			group, fmt.Sprint(r.N), r.Base.Format(1), r.Cand.Format(1),
			Delta(r), SignedInterval(r.CI), FormatP(r.P, cr.C.Bootstrap.Resamples), verdict,
		})
	}
	return header, rows
}

func (cr *ComparisonReport) footer() []string {
	c := cr.C
	lines := []string{
		fmt.Sprintf("%s paired: %d improved, %d worsened, %d unchanged", eval.Nouns(c.Paired, "item"), c.Improved, c.Worsened, c.Paired-c.Improved-c.Worsened),
	}
	if c.OnlyBase+c.OnlyCand > 0 {
		lines = append(lines, fmt.Sprintf("left out: %s scored only in %s, %d only in %s", eval.Nouns(c.OnlyBase, "item"), cr.Base, c.OnlyCand, cr.Cand))
	}
	t := c.Thresholds
	lines = append(lines, fmt.Sprintf("Δ in accuracy points, %s minus %s, rounded half away from zero; a trailing ~ marks a difference not significant at α=%g (%s, %d resamples, seed %d); a gated group regresses on a significant drop over %s points with n ≥ %d",
		cr.Cand, cr.Base, t.Alpha, c.Bootstrap.Method, c.Bootstrap.Resamples, c.Bootstrap.Seed, stats.FormatDecimal(t.MaxDrop), t.MinN))
	if c.Bootstrap.Raised {
		lines = append(lines, fmt.Sprintf("a p-value lay within the bootstrap's own error of α=%g: the resamples were raised five-fold, to %d", t.Alpha, c.Bootstrap.Resamples))
	}
	if c.MacroRefused != "" {
		lines = append(lines, c.MacroRefused)
	}
	return append(lines, cr.Notes...)
}

// levelName names an interval's level: "95%".
func levelName(level float64) string {
	return strconv.FormatFloat(math.Round(1e6*100*level)/1e6, 'f', -1, 64) + "%"
}

// text renders the comparison with tablewriter, in cr.Width columns: where
// the table is too wide, it takes its narrow layout, and a line under the
// table names the runs and the gated groups. Footer lines are wrapped.
func (cr *ComparisonReport) text(w io.Writer) error {
	width := cmp.Or(cr.Width, DefaultWidth)
	header, rows := cr.rows()
	var b strings.Builder
	if err := render(&b, header, rows, tw.AlignRight); err != nil {
		return err
	}
	footer := cr.footer()
	if maxWidth(b.String()) > width {
		header, rows = cr.layout(true)
		b.Reset()
		if err := render(&b, header, rows, tw.AlignRight); err != nil {
			return err
		}
		if maxWidth(b.String()) > width { // narrower still: split the columns
			t, err := fitColumns(header, rows, width)
			if err != nil {
				return err
			}
			b.Reset()
			b.WriteString(t)
		}
		head := "base: " + cr.Base + "; cand: " + cr.Cand + "; Avg: instance-weighted (micro); Macro: mean of the groups"
		if cr.Gated != nil {
			var gated []string
			for _, r := range cr.C.Rows {
				if cr.Gated(r.Group) {
					gated = append(gated, shortName(r.Group))
				}
			}
			head += "; gated: " + cmp.Or(strings.Join(gated, ", "), "none")
		}
		footer = append([]string{head}, footer...)
	}
	for _, l := range footer {
		b.WriteString(wrap(l, width, "    "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// markdown renders the comparison as a GitHub table.
func (cr *ComparisonReport) markdown(w io.Writer) error {
	header, rows := cr.rows()
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|---" + strings.Repeat("|---:", len(header)-2) + "|---|\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
	for _, l := range cr.footer() {
		b.WriteString(l + "\n\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// json renders the comparison for machines.
func (cr *ComparisonReport) json(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Base       string            `json:"base"`
		Candidate  string            `json:"candidate"`
		Comparison *stats.Comparison `json:"comparison"`
		Notes      []string          `json:"notes"`
	}{cr.Base, cr.Cand, cr.C, append([]string{}, cr.Notes...)})
}

// Render renders in the named format: text, markdown or json.
func (cr *ComparisonReport) Render(w io.Writer, format string) error {
	f, err := formatOf(format, "text", "markdown", "json")
	if err != nil {
		return err
	}
	switch f {
	case "markdown":
		return cr.markdown(w)
	case "json":
		return cr.json(w)
	}
	return cr.text(w)
}

// ComparableNotes are the warnings under a comparison of two runs that
// did not evaluate the same thing, skipped items, or whose judge drifted.
//
// The runs are named as the comparison's columns name them (see
// PairLabels): two runs of one model by their directories.
func ComparableNotes(base, cand *rundir.RunDir) []string {
	bm, cm := base.Manifest, cand.Manifest
	if bm == nil || cm == nil {
		return nil
	}
	bl, cl := PairLabels(base, cand, "base")
	var notes []string
	for _, n := range rundir.Explain(bl, cl, rundir.Incomparable(bm, cm)) {
		notes = append(notes, "warning: "+n)
	}
	for _, n := range []string{bm.Dataset.SkippedNote(bl), cm.Dataset.SkippedNote(cl),
		DriftNote(bl, base.Summary), DriftNote(cl, cand.Summary)} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	return notes
}

// PairLabels labels the two runs of a comparison by their models, told
// apart by their directories' names when the models are the same, and
// as base (named so) and "candidate" when those are the same too.
func PairLabels(base, cand *rundir.RunDir, baseName string) (string, string) {
	b, c := base.Label(), cand.Label()
	if b != c {
		return b, c
	}
	b, c = b+" ("+filepath.Base(base.Dir)+")", c+" ("+filepath.Base(cand.Dir)+")"
	if b != c {
		return b, c
	}
	return baseName, "candidate"
}
