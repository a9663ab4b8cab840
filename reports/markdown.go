package reports

import (
	"fmt"
	"io"
	"strings"
)

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
