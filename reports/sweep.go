package reports

import (
	"fmt"
	"image/color"
	"io"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/olekukonko/tablewriter/tw"
	"github.com/psveval/psveval/eval/stats"
)

// A SweepReport is a sweep's points as runs (one row each, in value
// order), the best point per column with its uncertainty, and the paired
// comparison of each pair of neighbouring points.
type SweepReport struct {
	Name, Axis string
	Values     []float64
	Runs       []Run
	Best       []stats.BestColumn
	// Steps[i] compares point i+1 with point i.
	Steps []*stats.Comparison
	Width int
	// TableOptions, when set, are the options of the table of runs
	// (default: intervals, under the sweep's title).
	TableOptions *Options
}

// text renders the sweep: the table with intervals, the best value per
// column, and the steps between neighbours.
func (sr *SweepReport) text(w io.Writer) error {
	if err := (Text{}).Report(w, sr.Runs, sr.tableOptions()); err != nil {
		return err
	}
	return sr.analysisText(w)
}

// tableOptions are the options of the sweep's table: TableOptions, else
// intervals under the sweep's title.
func (sr *SweepReport) tableOptions() Options {
	if sr.TableOptions != nil {
		return *sr.TableOptions
	}
	return Options{CI: true, Title: sr.title(), Width: sr.Width}
}

func (sr *SweepReport) title() string { return "sweep " + sr.Name + " over " + sr.Axis }

// analysis renders what the table does not show: the best value per
// column with its uncertainty, and the steps between neighbours.
func (sr *SweepReport) analysisText(w io.Writer) error {
	return sr.analysis(w, func(w io.Writer, header []string, rows [][]string) error {
		align := tw.AlignRight
		if header[0] == "column" {
			align = tw.AlignLeft
		}
		return render(w, header, rows, align)
	})
}

// analysis writes the best values and the steps with table.
func (sr *SweepReport) analysis(w io.Writer, table func(w io.Writer, header []string, rows [][]string) error) error {
	var rows [][]string
	for _, b := range sr.Best {
		var shares []string
		for _, v := range sr.Values {
			if s := b.Share(v); s > 0 {
				shares = append(shares, num(v)+": "+stats.FormatFloat(s, 1)+"%")
			}
		}
		var plausible []string
		for _, v := range b.Plausible {
			plausible = append(plausible, num(v))
		}
		best := num(b.Best)
		if len(b.Ties) > 1 {
			var tied []string
			for _, v := range b.Ties {
				tied = append(tied, num(v))
			}
			best = strings.Join(tied, " = ") + " (tied)"
		}
		rows = append(rows, []string{shortName(b.Group), best, strings.Join(plausible, ", "), strings.Join(shares, "  ")})
	}
	fmt.Fprintf(w, "\nbest %s per column (resampling items jointly across the points)\n", sr.Axis)
	if err := table(w, []string{"column", "best", "best in ≥ 5%", "share of resamples in which each is best (a tie counts for each)"}, rows); err != nil {
		return err
	}
	rows = nil
	for i, c := range sr.Steps {
		for _, r := range c.Rows {
			if r.Group != "Avg (micro)" {
				continue
			}
			rows = append(rows, []string{num(sr.Values[i]) + " → " + num(sr.Values[i+1]), strconv.Itoa(c.Improved), strconv.Itoa(c.Worsened), Delta(r), SignedInterval(r.CI), FormatP(r.P, c.Bootstrap.Resamples)})
		}
	}
	fmt.Fprintf(w, "\nbetween neighbouring %s values (paired over items, Avg micro)\n", sr.Axis)
	return table(w, []string{"step", "improved", "worsened", "Δ", "95% CI", "p"}, rows)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// SweepPlot draws accuracy against the axis for every column with its 95%
// band, the Avg line emphasised and the best value of Avg marked, and
// writes it in format "svg" or "png".
func (sr *SweepReport) SweepPlot(w io.Writer, format string) error {
	p, err := sr.plot()
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// plot lays the sweep out as a plot.
func (sr *SweepReport) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "\npsveval sweep " + sr.Name // the empty first line keeps the title off the edge
	p.X.Label.Text = sr.Axis
	p.Y.Label.Text = "accuracy (%)"
	p.Legend.Top = false // the curve of a sweep that peaks is highest in the middle
	cols := columnsOf(sr.Runs)
	palette := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}}
	for ci, col := range cols {
		line, band := make(plotter.XYs, 0, len(sr.Runs)), make(plotter.XYs, 0, 2*len(sr.Runs))
		var upper plotter.XYs
		for i, r := range sr.Runs {
			v, iv := col.pick(r)
			if !v.Valid() {
				continue
			}
			line = append(line, plotter.XY{X: sr.Values[i], Y: v.Float64()})
			if iv != nil {
				band = append(band, plotter.XY{X: sr.Values[i], Y: iv.Lo})
				upper = append(upper, plotter.XY{X: sr.Values[i], Y: iv.Hi})
			}
		}
		if len(line) == 0 {
			continue
		}
		c := palette[ci%len(palette)]
		avg := col.name == "Avg (micro)"
		if avg {
			c = color.RGBA{0, 0, 0, 255}
		}
		if len(band) == len(line) && len(band) > 1 {
			slices.Reverse(upper)
			poly, err := plotter.NewPolygon(append(band, upper...))
			if err != nil {
				return nil, err
			}
			poly.Color = color.NRGBA{c.R, c.G, c.B, 28}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		l, err := plotter.NewLine(line)
		if err != nil {
			return nil, err
		}
		l.Color = c
		l.Width = vg.Points(1)
		if avg {
			l.Width = vg.Points(3)
		}
		p.Add(l)
		p.Legend.Add(shortName(col.name), l)
	}
	for _, b := range sr.Best {
		if b.Group != "Avg (micro)" {
			continue
		}
		for i, r := range sr.Runs {
			if sr.Values[i] != b.Best {
				continue
			}
			s, err := plotter.NewScatter(plotter.XYs{{X: b.Best, Y: r.Summary.AvgMicro.Float64()}})
			if err != nil {
				return nil, err
			}
			s.Shape = draw.CircleGlyph{}
			s.Radius = vg.Points(6)
			s.Color = color.RGBA{200, 0, 0, 255}
			p.Add(s)
			p.Legend.Add("best "+sr.Axis+" (Avg)", s)
		}
	}
	// Room under the curves for the legend, within what an accuracy can
	// be: the axis stays inside [0, 100].
	lo, hi := p.Y.Min, p.Y.Max
	span := max(hi-lo, 1)
	p.Y.Min = max(0, lo-0.45*span)
	p.Y.Max = min(100, hi+0.05*span)
	p.Title.Padding = vg.Points(8)
	return p, nil
}

// yRange is the plot's y axis.
func (sr *SweepReport) yRange() (lo, hi float64) {
	p, err := sr.plot()
	if err != nil {
		return 0, 0
	}
	return p.Y.Min, p.Y.Max
}

type column struct {
	name string
	pick func(Run) (stats.Pct, *stats.Interval)
}

// columnsOf lists the columns of runs: every group in table order, then
// Avg (micro).
func columnsOf(runs []Run) []column {
	var groups []string
	for _, r := range runs {
		for _, t := range r.Summary.ByType {
			if !slices.Contains(groups, t.QuestionType) {
				groups = append(groups, t.QuestionType)
			}
		}
	}
	var cols []column
	for _, g := range groups {
		cols = append(cols, column{g, func(r Run) (stats.Pct, *stats.Interval) {
			for _, t := range r.Summary.ByType {
				if t.QuestionType == g {
					return t.Accuracy, t.CI
				}
			}
			return stats.Pct{}, nil
		}})
	}
	return append(cols, column{"Avg (micro)", func(r Run) (stats.Pct, *stats.Interval) { return r.Summary.AvgMicro, r.Summary.AvgMicroCI }})
}
