package reports

import (
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/stats"
)

func TestByName(t *testing.T) {
	t.Parallel()
	for _, f := range append(Formats, "md", "tex") {
		if _, err := ByName(f); err != nil {
			t.Errorf("ByName(%q): %v", f, err)
		}
	}
	if _, err := ByName("html"); err == nil || !strings.Contains(err.Error(), "want text, markdown, latex, csv, json") {
		t.Errorf("ByName(html) = %v", err)
	}
}

func TestLaTeXEscapesAndBolds(t *testing.T) {
	t.Parallel()
	run := func(label string, v string) Run {
		acc := stats.MustPct(v)
		return Run{Label: label, Summary: &stats.Summary{NItems: 40, NScored: 40, AvgMicro: acc, AvgMacro: acc,
			ByType: []stats.TypeStats{{QuestionType: "Visual Perception", N: 40, NScored: 40, Accuracy: acc}}}}
	}
	var b strings.Builder
	if err := (LaTeX{}).Report(&b, []Run{run("ckpt_λ=0.5 & 50%", "61.25"), run("base #1", "60")}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`ckpt\_$\lambda$=0.5 \& 50\%`, `base \#1`, `\textbf{61.3}`, "\\toprule", "\\bottomrule"} {
		if !strings.Contains(out, want) {
			t.Errorf("LaTeX output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `\textbf{60.0}`) {
		t.Errorf("the lower value is bold:\n%s", out)
	}
}

func TestPaperRowFor(t *testing.T) {
	t.Parallel()
	for label, want := range map[string]string{
		"MOFT-Lingshu-7B": "MOFT-Lingshu-7B", "lingshu-7b-moft-λ0.3": "MOFT-Lingshu-7B",
		"Lingshu-7B+SFT": "+SFT", "sft-ckpt": "+SFT", "Lingshu-7B": "Lingshu-7B", "qwen2.5-vl": "Lingshu-7B",
	} {
		if got := PaperRowFor(label).Name; got != want {
			t.Errorf("PaperRowFor(%q) = %s, want %s", label, got, want)
		}
	}
}
