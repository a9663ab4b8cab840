package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/psveval/psveval/eval/stats"
)

// A PlanReport is psveval plan's answer: how many labels, or how many
// items, with the formula and every input it used.
type PlanReport struct {
	Labels *stats.LabelPlan `json:"labels,omitempty"`
	Items  *stats.ItemPlan  `json:"items,omitempty"`
	// Source says what the inputs were measured on.
	Source string `json:"source"`
	Width  int    `json:"-"`
}

// Render writes the plan as text or JSON.
func (p *PlanReport) Render(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "text":
	default:
		return &FormatError{format, []string{"text", "json"}}
	}
	var b strings.Builder
	f := func(x float64) string { return stats.FormatFloat(x, 2) }
	if l := p.Labels; l != nil {
		if l.Need > 0 {
			fmt.Fprintf(&b, "labels: %d labelled items bring the corrected Avg's %g%% interval to ±%s points\n", l.Need, 100*l.Level, f(l.HalfWidth))
		} else {
			fmt.Fprintf(&b, "labels: no number of labels brings the corrected Avg to ±%s points: the judge's own part (J) is wider; score more items\n", f(l.HalfWidth))
		}
		fmt.Fprintf(&b, "formula: %s\n", l.Formula)
		fmt.Fprintf(&b, "inputs (%s): n₀ = %d pilot labels gave ±%s; L = %s and J = %s points² (cluster-robust); λ = %s; q = %s; h = %s; %d scored items\n",
			p.Source, l.PilotLabelled, f(l.PilotHalfWidth), f(l.LabelPart), f(l.JudgePart), f(l.Lambda), f(l.Quantile), f(l.HalfWidth), l.Items)
	}
	if it := p.Items; it != nil {
		if it.Need > 0 {
			fmt.Fprintf(&b, "items: %d paired items let the gate catch a drop of %s points with power %s (α %s, --max-drop %s)\n", it.Need, f(it.Delta), f(it.Power), f(it.Alpha), f(it.MaxDrop))
		} else {
			fmt.Fprintf(&b, "items: no number of items lets the gate catch a drop of %s points with power %s: the judge's shared noise alone is wider; give the gate a larger drop\n", f(it.Delta), f(it.Power))
		}
		fmt.Fprintf(&b, "formula: %s\n", it.Formula)
		sd := "per-item SD of the paired difference"
		if !it.Paired {
			sd = "√2 × one run's per-item SD (the unpaired bound: give a second run of the same items to measure the pairing)"
		}
		fmt.Fprintf(&b, "inputs (%s, %d items): SD = %s points, %s; deff = %s (items sharing an image); shared judge SD = %s points; SE' needed = %s\n",
			p.Source, it.PilotItems, f(it.SD), sd, f(it.DesignEffect), f(it.SharedSD), f(it.SE))
	}
	_, err := io.WriteString(w, Wrap(b.String(), p.Width))
	return err
}

// Wrap wraps each line of s to width at spaces, indenting continuations
// by four spaces; width 0 is DefaultWidth.
func Wrap(s string, width int) string {
	if width <= 0 {
		width = DefaultWidth
	}
	var b strings.Builder
	for l := range strings.Lines(s) {
		b.WriteString(wrap(strings.TrimSuffix(l, "\n"), width, "    "))
	}
	return b.String()
}
