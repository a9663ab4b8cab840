package reports

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/tw"
)

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
