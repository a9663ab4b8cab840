package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/reports"
)

// labelFromRun fills a label sheet with a run's own verdicts, as a
// clinician who marks as that run's judge did, keeping the draw record.
func labelFromRun(t *testing.T, sheet, run string) string {
	t.Helper()
	met := map[[2]string]bool{}
	for _, r := range readResults(t, run) {
		for _, c := range r.Criteria {
			if c.Met != nil {
				met[[2]string{r.ID, c.Dim}] = *c.Met
			}
		}
	}
	lines := readLines(t, sheet)
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		var x struct{ ID, Dim string }
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatal(err)
		}
		m, ok := met[[2]string{x.ID, x.Dim}]
		if !ok {
			t.Fatalf("the sheet names %s/%s, which %s did not judge", x.ID, x.Dim, run)
		}
		line, _ := json.Marshal(map[string]any{"id": x.ID, "dim": x.Dim, "met": m})
		b.Write(append(line, '\n'))
	}
	return writeFile(t, filepath.Dir(sheet), "labels.jsonl", b.String())
}

// TestCalibrateEndToEnd: a run judged cleanly, a re-judging of the same
// answers by a judge that flips a fifth of its verdicts, and labels
// from the clean judging on a random 20% drawn by audit --sample: report
// --calibrate on the noisy judging covers the clean accuracy and is
// closer to it than the noisy judge's own, in JSON, and the text,
// Markdown and CSV reports show the corrected row with its footnote.
func TestCalibrateEndToEnd(t *testing.T) {
	t.Parallel()
	const n = 500
	data, refs := textSet(t, n)
	clean := judgedRun(t, data, llmtest.New(t, llmtest.Config{References: refs}))
	noisySrv := llmtest.New(t, llmtest.Config{References: refs, JudgeFlip: 0.2})
	noisy := filepath.Join(t.TempDir(), "noisy")
	if _, stderr, code := cli(t, t.Context(), "judge", clean, "--out", noisy, "--no-cache", "--progress", "none",
		"--judge-url", noisySrv.URL, "--judge-model", llmtest.DefaultJudge); code != 0 {
		t.Fatalf("judge: exit %d\n%s", code, stderr)
	}
	sheet := filepath.Join(t.TempDir(), "sheet.jsonl")
	if _, stderr, code := cli(t, t.Context(), "audit", "--sample", "100", "--seed", "7", "--images", "none", "-o", sheet, noisy); code != 0 || !strings.Contains(stderr, "uniform random draw of 100 of 500") {
		t.Fatalf("audit --sample: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(strings.TrimSuffix(sheet, ".jsonl") + ".html"); err != nil {
		t.Fatalf("no HTML sheet beside the JSONL one: %v", err)
	}
	labels := labelFromRun(t, sheet, clean)

	var cleanSum stats.Summary
	readJSON(t, filepath.Join(clean, "summary.json"), &cleanSum)
	truth := cleanSum.AvgMicro.Float64()
	stdout, stderr, code := cli(t, t.Context(), "report", "--calibrate", labels, "--format", "json", noisy)
	if code != 0 {
		t.Fatalf("report --calibrate: exit %d\n%s", code, stderr)
	}
	var out struct {
		Rows []struct {
			Label     string
			Corrected bool
			Summary   *stats.Summary
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Rows) != 2 || !out.Rows[1].Corrected || out.Rows[0].Summary == nil || out.Rows[0].Summary.Calibrated == nil {
		t.Fatalf("want the run's row with its calibrated summary, then the corrected row:\n%s", stdout)
	}
	raw, cal := out.Rows[0].Summary.AvgMicro.Float64(), out.Rows[0].Summary.Calibrated
	got := cal.AvgMicro.Float64()
	t.Logf("clean %.2f, noisy judge %.2f, corrected %.2f %v, λ %.2f, %d labelled", truth, raw, got, *cal.AvgMicroCI, cal.Lambda, cal.NLabelled)
	if cal.NLabelled != 100 || cal.AvgMicroCI == nil || cal.AvgMicroCI.Lo > truth || truth > cal.AvgMicroCI.Hi {
		t.Errorf("corrected Avg %v (%d labelled) does not cover the clean %.2f", cal.AvgMicroCI, cal.NLabelled, truth)
	}
	if math.Abs(got-truth) >= math.Abs(raw-truth) {
		t.Errorf("corrected %.2f is no closer to the clean %.2f than the noisy judge's %.2f", got, truth, raw)
	}
	if !strings.Contains(cal.Design, "uniform random draw of 100 of 500") || len(cal.Warnings) != 0 {
		t.Errorf("design %q, warnings %q", cal.Design, cal.Warnings)
	}
	for _, f := range []string{"text", "markdown", "csv", "latex"} {
		got, stderr, code := cli(t, t.Context(), "report", "--calibrate", labels, "--format", f, noisy)
		if code != 0 || !strings.Contains(got, "(corrected)") {
			t.Errorf("--format %s: exit %d, no corrected row\n%s%s", f, code, got, stderr)
		}
		if f == "text" || f == "markdown" {
			if !strings.Contains(got, "PPI++") || !strings.Contains(got, "100 labelled items") {
				t.Errorf("--format %s: no footnote on the method and the labels\n%s", f, got)
			}
		}
	}
}

// TestCalibrateRefuses: labels that cannot calibrate a run are refused
// with every offending label listed, and nothing is printed as if they
// could; labels without a draw record calibrate with a warning.
func TestCalibrateRefuses(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 120)
	srv := llmtest.New(t, llmtest.Config{References: refs})
	run := judgedRun(t, data, srv)
	dir := t.TempDir()
	sheet := filepath.Join(dir, "sheet.jsonl")
	if _, stderr, code := cli(t, t.Context(), "audit", "--sample", "40", "--images", "none", "-o", sheet, run); code != 0 {
		t.Fatalf("audit --sample: exit %d\n%s", code, stderr)
	}
	labels := labelFromRun(t, sheet, run)
	lines := readLines(t, labels)
	write := func(name string, ls []string) string { return writeFile(t, dir, name, strings.Join(ls, "\n")+"\n") }
	var first struct{ ID string }
	_ = json.Unmarshal([]byte(lines[1]), &first)

	other := judgedRun(t, data, llmtest.New(t, llmtest.Config{References: refs, Seed: 9, CorrectRate: 0.3}))
	for _, tc := range []struct {
		name, file, run string
		want            []string
	}{
		{"unknown item", write("unknown.jsonl", append(slicesClone(lines), `{"id":"no-such-item","dim":"accuracy","met":true}`)), run, []string{"name items the run does not have", "no-such-item"}},
		{"unknown criterion", write("dim.jsonl", append(slicesClone(lines), `{"id":"`+first.ID+`","dim":"no-such-dim","met":true}`)), run, []string{"name criteria their item does not have", first.ID + "/no-such-dim"}},
		{"some criteria", write("partial.jsonl", append(slicesClone(lines[:1]), lines[2:]...)), run, []string{"cover only some of an item's criteria", first.ID}},
		{"other answers", labels, other, []string{"were made on other answers than this run's"}},
	} {
		stdout, stderr, code := cli(t, t.Context(), "report", "--calibrate", tc.file, tc.run)
		if code != 2 || stdout != "" {
			t.Errorf("%s: exit %d, want 2 and nothing printed\n%s", tc.name, code, stdout)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, stderr)
			}
		}
	}
	bare := write("bare.jsonl", lines[1:])
	stdout, stderr, code := cli(t, t.Context(), "report", "--calibrate", bare, run)
	if code != 0 || !strings.Contains(strings.Join(strings.Fields(stdout), " "), "records no random draw") {
		t.Errorf("labels without a draw record: exit %d, want 0 and a warning\n%s%s", code, stdout, stderr)
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// TestPlanCommand: plan labels answers from a pilot sheet, plan items
// from two runs of the same items, each with its formula and inputs;
// bad inputs are refused.
func TestPlanCommand(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 300)
	run := judgedRun(t, data, llmtest.New(t, llmtest.Config{References: refs}))
	other := judgedRun(t, data, llmtest.New(t, llmtest.Config{References: refs, Seed: 4}))
	sheet := filepath.Join(t.TempDir(), "sheet.jsonl")
	if _, stderr, code := cli(t, t.Context(), "audit", "--sample", "40", "--images", "none", "-o", sheet, run); code != 0 {
		t.Fatalf("audit --sample: exit %d\n%s", code, stderr)
	}
	// A labeller who disagrees with the judge on every fourth criterion.
	lines := readLines(t, labelFromRun(t, sheet, run))
	for i := 1; i < len(lines); i += 4 {
		lines[i] = strings.Replace(strings.Replace(strings.Replace(lines[i], `"met":true`, `"met":"x"`, 1), `"met":false`, `"met":true`, 1), `"met":"x"`, `"met":false`, 1)
	}
	labels := writeFile(t, t.TempDir(), "labels.jsonl", strings.Join(lines, "\n")+"\n")
	stdout, stderr, code := cli(t, t.Context(), "plan", "labels", "--labels", labels, "--half-width", "3", "--format", "json", run)
	var lp reports.PlanReport
	if code != 0 || json.Unmarshal([]byte(stdout), &lp) != nil || lp.Labels == nil || lp.Labels.PilotLabelled != 40 || lp.Labels.Need <= 0 {
		t.Fatalf("plan labels: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, _, code = cli(t, t.Context(), "plan", "items", "--delta", "3", run, other)
	flat := strings.Join(strings.Fields(stdout), " ")
	if code != 0 || !strings.Contains(flat, "paired items let the gate catch a drop of 3.00 points") || !strings.Contains(flat, "formula:") || !strings.Contains(flat, "per-item SD of the paired difference") {
		t.Errorf("plan items: exit %d\n%s", code, stdout)
	}
	for _, args := range [][]string{
		{"plan"},
		{"plan", "labels", run},
		{"plan", "items", "--power", "1", run},
		{"plan", "items", run, run},
		{"plan", "items", "--delta", "1", "--max-drop", "1", run},
	} {
		if _, stderr, code := cli(t, t.Context(), args...); code != 2 || stderr == "" {
			t.Errorf("%q: exit %d, want 2 with a reason", args, code)
		}
	}
}
