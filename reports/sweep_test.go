package reports

import (
	"bytes"
	"image/png"
	"os"
	"testing"

	"github.com/psveval/psveval/eval/stats"
)

// TestSweepPlotAxis: the plot's y axis stays within [0, 100] for an
// accuracy, whatever room the legend asks for, and the plot renders.
func TestSweepPlotAxis(t *testing.T) {
	var runs []Run
	for i, acc := range []string{"12.5", "20", "31.25"} {
		s := &stats.Summary{NScored: 40, AvgMicro: stats.MustPct(acc), AvgMacro: stats.MustPct(acc),
			AvgMicroCI: &stats.Interval{Lo: 2, Hi: 40}, ByType: []stats.TypeStats{{QuestionType: "Visual Perception", NScored: 40, Accuracy: stats.MustPct(acc)}}}
		runs = append(runs, Run{Label: "p" + acc, Summary: s, Dir: "d" + string(rune('0'+i))})
	}
	sr := &SweepReport{Name: "t", Axis: "lambda", Values: []float64{0, 0.5, 1}, Runs: runs}
	var b bytes.Buffer
	if err := sr.SweepPlot(&b, "png"); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b.Bytes())); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if out := os.Getenv("PSVEVAL_PLOT_OUT"); out != "" {
		os.WriteFile(out, b.Bytes(), 0o644)
	}
	if lo, hi := sr.yRange(); lo < 0 || hi > 100 {
		t.Errorf("y axis [%g, %g], want within [0, 100]", lo, hi)
	}
}
