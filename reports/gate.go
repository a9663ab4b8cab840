package reports

import (
	"fmt"
	"strings"

	"github.com/psveval/psveval/eval/stats"
)

// GateVerdict is the gate's one-line verdict: FAIL with each gated
// column that dropped significantly by more than maxDrop points, or PASS
// with the difference and p-value of every gated column checked.
func GateVerdict(regressed []stats.CompareRow, c *stats.Comparison, gated func(string) bool, maxDrop, alpha float64) string {
	drop := stats.FormatDecimal(maxDrop)
	if len(regressed) > 0 {
		parts := make([]string, len(regressed))
		for i, r := range regressed {
			parts[i] = fmt.Sprintf("%s %s points %s, p %s", r.Group, stats.FormatSigned(r.Delta, 1), SignedInterval(r.CI), pText(r.P))
		}
		return fmt.Sprintf("gate: FAIL: significant drop over %s points (α=%g): %s", drop, alpha, strings.Join(parts, "; "))
	}
	var checked []string
	for _, r := range c.Rows {
		if (gated == nil || gated(r.Group)) && !r.Small {
			checked = append(checked, fmt.Sprintf("%s %s (p %s)", r.Group, Delta(r), pText(r.P)))
		}
	}
	return fmt.Sprintf("gate: PASS: no gated column dropped significantly by over %s points: %s", drop, strings.Join(checked, "; "))
}

// pText renders a p-value for the verdict line: "= 0.412" or "< 0.001".
func pText(p float64) string {
	s := FormatP(p)
	if strings.HasPrefix(s, "<") {
		return "< " + s[1:]
	}
	return "= " + s
}
