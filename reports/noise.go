package reports

import (
	"cmp"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter/tw"
	"github.com/psveval/psveval/eval/stats"
)

// noiseText renders a judge's noise floor: per criterion, how often its
// verdict changes between repeats and Fleiss' κ; per column, the
// judge's standard deviation beside the sampling one, and the smallest
// difference the judge's noise alone would not produce.
func noiseText(w io.Writer, n *stats.JudgeNoise, width int) error {
	if _, err := fmt.Fprintf(w, "judge noise over %d repeats\n", n.Repeats); err != nil {
		return err
	}
	var rows [][]string
	for _, c := range n.Criteria {
		rows = append(rows, []string{c.Dim, strconv.Itoa(c.Items), stats.FormatFloat(c.Changed, 1), opt(c.Kappa, 2)})
	}
	if err := render(w, []string{"criterion", "items", "changed %", "Fleiss κ"}, rows, tw.AlignRight); err != nil {
		return err
	}
	rows = nil
	for _, c := range n.Columns {
		rows = append(rows, []string{shortName(c.Group), stats.FormatFloat(c.JudgeSD, 2), opt(c.SamplingSD, 2), stats.FormatFloat(c.MinDetectable, 2)})
	}
	if err := render(w, []string{"column", "judge SD", "sampling SD", "min detectable Δ"}, rows, tw.AlignRight); err != nil {
		return err
	}
	_, err := io.WriteString(w, wrap("changed: share of items whose verdict differs between repeats; judge SD: standard deviation of the column's accuracy across repeats, in points; sampling SD: the bootstrap standard error from sampling items; min detectable Δ: 1.96·√2·judge SD, the smallest difference between two judgings of the same answers that judge noise alone exceeds less than 5% of the time", cmp.Or(width, DefaultWidth), "    "))
	return err
}
