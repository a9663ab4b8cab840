package reports

import (
	"encoding/csv"
	"fmt"
	"io"

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
