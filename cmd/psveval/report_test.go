package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
)

// paperCounts reproduce the three published rows exactly: items per type
// (81, 72, 2051, 4251, 2745, 64: 9,264 in all) and, per row, the sum of
// item scores in fifths of a point (five one-point criteria per item), so
// that every rounded accuracy and the instance-weighted Avg equal the
// paper's. The counts were found by searching for weights that satisfy all
// three Avg figures at once.
var paperCounts = []struct {
	label  string
	fifths [6]int
}{
	{"Lingshu-7B", [6]int{249, 284, 6894, 11562, 5953, 202}},
	{"Lingshu-7B+SFT", [6]int{288, 303, 7667, 13621, 7092, 233}},
	{"MOFT-Lingshu-7B", [6]int{296, 310, 7889, 14052, 7538, 232}},
}

var paperN = [6]int{81, 72, 2051, 4251, 2745, 64}

func writePaperRuns(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	var dirs []string
	for _, pc := range paperCounts {
		var counts []evaltest.TypeCount
		for i, typ := range eval.QuestionTypes {
			counts = append(counts, evaltest.TypeCount{Type: typ, N: paperN[i], Fifths: pc.fifths[i]})
		}
		d := filepath.Join(dir, pc.label)
		if err := evaltest.WriteRun(d, pc.label, evaltest.PaperResults(counts)); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

func TestReportReproducesPaper(t *testing.T) {
	t.Parallel()
	dirs := writePaperRuns(t)
	out, errOut, code := cli(t, t.Context(), append([]string{"report", "--paper", "--format", "csv"}, dirs...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	published := map[string]string{
		"Lingshu-7B":      "61.5 78.9 67.2 54.4 43.4 63.1 54.3",
		"Lingshu-7B+SFT":  "71.1 84.2 74.8 64.1 51.7 72.8 63.0",
		"MOFT-Lingshu-7B": "73.1 86.1 76.9 66.1 54.9 72.5 65.5",
	}
	seen := 0
	for _, line := range rows[1:] {
		f := strings.Split(line, ",")
		want, ok := published[f[0]]
		if !ok {
			continue
		}
		seen++
		var got []string
		for c := 1; c+1 < len(f) && len(got) < 7; c += 2 { // value, n pairs
			var v float64
			if err := json.Unmarshal([]byte(f[c]), &v); err != nil {
				t.Fatalf("%s: %q", f[0], f[c])
			}
			got = append(got, strings.TrimSpace(strings.Replace(strings.Replace(fmtOne(v), "+", "", 1), " ", "", -1)))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: printed %s, paper %s", f[0], strings.Join(got, " "), want)
		}
	}
	if seen != 3 {
		t.Fatalf("found %d of the 3 runs in:\n%s", seen, out)
	}
	// The text report shows each run next to its published row, all
	// differences zero.
	out, _, _ = cli(t, t.Context(), append([]string{"report", "--paper"}, dirs...)...)
	for _, d := range []string{"Δ Lingshu-7B − Lingshu-7B", "Δ Lingshu-7B+SFT − +SFT", "Δ MOFT-Lingshu-7B − MOFT-Lingshu-7B"} {
		i := strings.Index(out, d)
		if i < 0 {
			t.Fatalf("no row %q in:\n%s", d, out)
		}
		line := out[i : i+strings.Index(out[i:], "\n")]
		cells := strings.Split(line, "│")
		for _, c := range cells[1:8] {
			if strings.TrimSpace(c) != "+0.0" {
				t.Errorf("row %q: %q, want every difference +0.0", d, line)
				break
			}
		}
	}
	golden(t, "report-paper", out)
}

func fmtOne(v float64) string {
	b, _ := json.Marshal(float64(int64(v*10+0.5)) / 10)
	s := string(b)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// writeRuns writes two synthetic runs of 6×200 items for golden tests.
func writeRuns(t *testing.T) (base, cand string) {
	t.Helper()
	dir := t.TempDir()
	base, cand = filepath.Join(dir, "base"), filepath.Join(dir, "cand")
	if err := evaltest.WriteRun(base, "model-a", evaltest.RandomResults(200, 0.6, 1)); err != nil {
		t.Fatal(err)
	}
	if err := evaltest.WriteRun(cand, "model-b", evaltest.RandomResults(200, 0.64, 2)); err != nil {
		t.Fatal(err)
	}
	return base, cand
}

func TestReportGoldens(t *testing.T) {
	t.Parallel()
	base, cand := writeRuns(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"report-text", []string{"report", base, cand}},
		{"report-ci", []string{"report", "--ci", base, cand}},
		{"report-markdown", []string{"report", "--format", "markdown", "--ci", base, cand}},
		{"report-latex", []string{"report", "--format", "latex", base, cand}},
		{"report-csv", []string{"report", "--format", "csv", "--ci", base, cand}},
		{"report-json", []string{"report", "--format", "json", base}},
		{"report-dims", []string{"report", "--dims", base, cand}},
		{"report-by-modality", []string{"report", "--by", "modality", "--label", "A", "--label", "B", base, cand}},
		{"compare-text", []string{"compare", base, cand}},
		{"compare-markdown", []string{"compare", "--format", "markdown", base, cand}},
		{"compare-json", []string{"compare", "--format", "json", "--by", "modality", base, cand}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := cli(t, t.Context(), tc.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			golden(t, tc.name, strings.ReplaceAll(out, filepath.Dir(base), "RUNS"))
		})
	}
}

func TestCompareFlips(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, cand := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	rs := evaltest.RandomResults(40, 0.5, 5)
	if err := evaltest.WriteRun(base, "a", rs); err != nil {
		t.Fatal(err)
	}
	rs[3] = evaltest.Result(rs[3].ID, rs[3].QuestionType, 0)
	rs[100] = evaltest.Result(rs[100].ID, rs[100].QuestionType, 5)
	if err := evaltest.WriteRun(cand, "b", rs); err != nil {
		t.Fatal(err)
	}
	out, _, code := cli(t, t.Context(), "compare", "--flips", base, cand)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	golden(t, "compare-flips", out)
	if !strings.Contains(out, "2 items changed score") || !strings.Contains(out, "question:  Q VP-00003") {
		t.Errorf("flips missing:\n%s", out)
	}
}

func TestGate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	rs := evaltest.RandomResults(300, 0.6, 11)
	if err := evaltest.WriteRun(base, "base", rs); err != nil {
		t.Fatal(err)
	}
	write := func(name string, edit func([]eval.Result) []eval.Result) string {
		d := filepath.Join(dir, name)
		cp := append([]eval.Result(nil), rs...)
		if err := evaltest.WriteRun(d, name, edit(cp)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// A clear regression: a fifth of the items lose two criteria.
	worse := write("worse", func(r []eval.Result) []eval.Result {
		for i := 0; i < len(r); i += 5 {
			met := 0
			for _, c := range r[i].Criteria {
				if *c.Met {
					met++
				}
			}
			r[i] = evaltest.Result(r[i].ID, r[i].QuestionType, max(met-2, 0))
		}
		return r
	})
	// Noise: a few items move each way.
	noisy := write("noisy", func(r []eval.Result) []eval.Result {
		for i := range 40 {
			j := (i * 37) % len(r)
			r[j] = evaltest.Result(r[j].ID, r[j].QuestionType, (i*3)%6)
		}
		return r
	})
	incomplete := filepath.Join(dir, "incomplete")
	os.MkdirAll(incomplete, 0o755)
	if err := store.WriteJSON(filepath.Join(incomplete, "manifest.json"), rundir.Manifest{Args: []string{"run", "--data", "d.jsonl", "--out", incomplete}}); err != nil {
		t.Fatal(err)
	}
	copied := write("copy", func(r []eval.Result) []eval.Result { return r })
	notRun := filepath.Join(dir, "not-a-run")
	os.MkdirAll(notRun, 0o755)
	errored := write("errored", func(r []eval.Result) []eval.Result {
		for i := range 40 {
			r[i].Status, r[i].Score, r[i].AllMet, r[i].Error = eval.StatusError, nil, nil, "answer: HTTP 500"
		}
		return r
	})
	for _, tc := range []struct {
		name, cand string
		extra      []string
		code       int
		verdict    string
	}{
		{"regression", worse, nil, 1, "gate: FAIL: significant drop over 1.0 points"},
		{"regression under a lenient max drop", worse, []string{"--max-drop", "20"}, 0, "gate: PASS"},
		{"regression in a gated type", worse, []string{"--types", "VP,DI"}, 1, "gate: FAIL"},
		{"all columns", worse, []string{"--types", "all"}, 1, "Avg (macro)"},
		{"noise", noisy, nil, 0, "gate: PASS"},
		{"the same run", base, []string{"--types", "all"}, 2, "are the same run (one directory)"},
		{"the same run, spelled otherwise", base + "/../" + filepath.Base(base) + "/", nil, 2, "are the same run (one directory)"},
		{"a copy of the same run", copied, nil, 2, "their results.jsonl are identical"},
		{"incomplete", incomplete, nil, 3, "finish it with: psveval run --data d.jsonl --out"},
		{"not a run directory", notRun, nil, 2, "not a run directory"},
		{"missing directory", filepath.Join(dir, "nowhere"), nil, 2, "not a run directory"},
		{"errors above the rate", errored, nil, 3, "above --max-error-rate"},
		{"unknown column", noisy, []string{"--types", "XX"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"gate", "--baseline", base, "--candidate", tc.cand}, tc.extra...)
			out, errOut, code := cli(t, t.Context(), args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.verdict) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.verdict, out, errOut)
			}
			if lines := strings.Split(out, "\n"); tc.code < 2 && !strings.HasPrefix(lines[0], "gate: ") {
				t.Errorf("the verdict is not the first line: %q", lines[0])
			}
		})
	}
	_, _, code := cli(t, t.Context(), "gate", "--baseline", base)
	if code != 2 {
		t.Errorf("gate without --candidate: exit %d, want 2", code)
	}
	out, _, _ := cli(t, t.Context(), "gate", "--baseline", base, "--candidate", worse, "--types", "VP,avg")
	golden(t, "gate-fail", strings.ReplaceAll(out, dir, "RUNS"))
}

func TestGateStepSummary(t *testing.T) {
	dir := t.TempDir()
	base, cand := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	rs := evaltest.RandomResults(100, 0.6, 3)
	evaltest.WriteRun(base, "a", rs)
	other := slices.Clone(rs)
	other[0] = evaltest.Result(rs[0].ID, rs[0].QuestionType, 5) // not the same run: one item differs
	evaltest.WriteRun(cand, "b", other)
	summary := filepath.Join(dir, "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	if _, _, code := cli(t, t.Context(), "gate", "--baseline", base, "--candidate", cand); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(summary)
	if err != nil || !strings.Contains(string(b), "### psveval gate") || !strings.Contains(string(b), "| Avg (micro) |") {
		t.Errorf("step summary: %v\n%s", err, b)
	}
}
