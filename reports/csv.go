package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/psveval/psveval/eval/stats"
)

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
	// CSV has no footnotes: where a run's Macro leaves a type out, a last
	// column names it, on that run's row.
	excludes := map[string]string{}
	for _, r := range runs {
		if ex := r.Summary.MacroExcludes; len(ex) > 0 && !opts.Dims {
			excludes[r.Label] = strings.Join(ex, "; ")
		}
	}
	if len(excludes) > 0 {
		head = append(head, "Avg (macro) leaves out")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for i, r := range t.rows {
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
		if len(excludes) > 0 {
			ex := ""
			if i < len(runs) && !r.paper && !r.diff {
				ex = excludes[runs[i].Label]
			}
			line = append(line, ex)
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
