package reports

import (
	"fmt"
	"strings"

	"github.com/psveval/psveval/eval/stats"
)

// GateVerdict is the gate's one-line verdict: FAIL with each gated
// column that dropped significantly by more than the maximum drop, or
// PASS with the difference and p-value of every gated column checked.
func GateVerdict(d *stats.GateDecision) string {
	t := d.Comparison.Thresholds
	drop, alpha := stats.FormatDecimal(t.MaxDrop), t.Alpha
	if d.Failed() {
		parts := make([]string, len(d.Regressed))
		for i, r := range d.Regressed {
			parts[i] = fmt.Sprintf("%s %s points %s, p %s", r.Group, stats.FormatSigned(r.Delta, 1), SignedInterval(r.CI), pText(r.P, d.Comparison.Bootstrap.Resamples))
		}
		return fmt.Sprintf("gate: FAIL: significant drop over %s points (α=%g): %s", drop, alpha, strings.Join(parts, "; "))
	}
	var checked []string
	for _, r := range d.Checked {
		checked = append(checked, fmt.Sprintf("%s %s (p %s)", r.Group, Delta(r), pText(r.P, d.Comparison.Bootstrap.Resamples)))
	}
	return fmt.Sprintf("gate: PASS: no gated column dropped significantly by over %s points: %s", drop, strings.Join(checked, "; "))
}

// pText renders a p-value for the verdict line: "= 0.412" or "< 0.004".
func pText(p float64, resamples int) string {
	s := FormatP(p, resamples)
	if strings.HasPrefix(s, "<") {
		return "< " + s[1:]
	}
	return "= " + s
}
