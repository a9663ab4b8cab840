package reports

import (
	"fmt"
	"io"
	"strings"
)

// LaTeX renders a booktabs tabular with the best value per column in bold.
type LaTeX struct{}

// Report renders runs.
func (LaTeX) Report(w io.Writer, runs []Run, opts Options) error {
	t := build(runs, opts)
	var b strings.Builder
	b.WriteString("% requires \\usepackage{booktabs}\n")
	b.WriteString("\\begin{tabular}{l" + strings.Repeat("r", len(t.short)) + "}\n\\toprule\n")
	head := []string{"Model"}
	for _, s := range t.short {
		head = append(head, latexEscape(s))
	}
	b.WriteString(strings.Join(head, " & ") + " \\\\\n\\midrule\n")
	for i, r := range t.rows {
		if r.paper && (i == 0 || !t.rows[i-1].paper) && i > 0 {
			b.WriteString("\\midrule\n")
		}
		parts := []string{latexEscape(r.label)}
		for _, c := range r.cells {
			s := latexEscape(c.value())
			if iv := c.interval(); iv != "" {
				s += " {\\scriptsize" + latexEscape(iv) + "}"
			}
			if c.best {
				s = "\\textbf{" + s + "}"
			}
			parts = append(parts, s)
		}
		b.WriteString(strings.Join(parts, " & ") + " \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	if t.legend != "" {
		b.WriteString("% " + ascii(t.legend) + "\n")
	}
	for i, n := range t.notes {
		fmt.Fprintf(&b, "%% [%d] %s\n", i+1, ascii(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// latexEscape makes s plain ASCII LaTeX that pdflatex compiles: special
// characters escaped, the symbols the tables use spelled in math mode,
// and any other non-ASCII character replaced by "?".
func latexEscape(s string) string {
	return ascii(latexSpecial.Replace(s))
}

var latexSpecial = strings.NewReplacer(`\`, `\textbackslash{}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`, "_", `\_`, "{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`,
	"Δ", `$\Delta$`, "−", `$-$`, "α", `$\alpha$`, "κ", `$\kappa$`, "λ", `$\lambda$`, "θ", `$\theta$`, "≥", `$\geq$`, "≤", `$\leq$`, "±", `$\pm$`, "–", "--", "—", "---")

// ascii replaces every non-ASCII rune of s that has no LaTeX spelling:
// the symbols above become their math-mode forms, others "?".
func ascii(s string) string {
	s = latexSymbols.Replace(s)
	return strings.Map(func(r rune) rune {
		if r > 126 || (r < 32 && r != '\t') {
			return '?'
		}
		return r
	}, s)
}

var latexSymbols = strings.NewReplacer("Δ", `$\Delta$`, "−", `$-$`, "α", `$\alpha$`, "κ", `$\kappa$`, "λ", `$\lambda$`, "θ", `$\theta$`, "≥", `$\geq$`, "≤", `$\leq$`, "±", `$\pm$`, "–", "--", "—", "---", "·", "*", "→", "->")
