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

// writeTiedRuns writes two runs whose Visual Perception accuracy is
// exactly 61.25 (49 of 80 items fully met) and, in the first, whose
// Factual Verification accuracy is exactly 8.75 (7 of 80): values that
// float sums and %.1f's ties-to-even print wrongly.
func writeTiedRuns(t *testing.T) (a, b string) {
	t.Helper()
	dir := t.TempDir()
	a, b = filepath.Join(dir, "tie-a"), filepath.Join(dir, "tie-b")
	ra := evaltest.PaperResults([]evaltest.TypeCount{
		{Type: "Visual Perception", N: 80, Fifths: 49 * 5},
		{Type: "Factual Verification", N: 80, Fifths: 7 * 5},
	})
	// The same 61.25 through fractional scores: 43 full items and ten at
	// 3/5 (whose float sum drifts from 6), where the first had 49 full.
	rb := slices.Clone(ra)
	for i := range 80 {
		met := 0
		switch {
		case i < 10:
			met = 3
		case i < 53:
			met = 5
		}
		rb[i] = evaltest.Result(ra[i].ID, "Visual Perception", met)
	}
	if err := evaltest.WriteRun(a, "tied", ra); err != nil {
		t.Fatal(err)
	}
	if err := evaltest.WriteRun(b, "tied", rb); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestTiesRoundHalfAwayFromZero checks the one rounding rule in every
// output: 61.25 prints 61.3 and 8.75 prints 8.8 everywhere, both runs
// tied at 61.25 print the same digits, and rows with the same label are
// told apart by their directories.
func TestTiesRoundHalfAwayFromZero(t *testing.T) {
	t.Parallel()
	a, b := writeTiedRuns(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"ties-text", []string{"report", "--ci", a, b}},
		{"ties-markdown", []string{"report", "--format", "markdown", a, b}},
		{"ties-latex", []string{"report", "--format", "latex", "--paper", a, b}},
		{"ties-csv", []string{"report", "--format", "csv", a, b}},
		{"ties-json", []string{"report", "--format", "json", a}},
		{"ties-paper", []string{"report", "--paper", a}},
		{"ties-compare", []string{"compare", "--min-n", "1", a, b}},
		{"ties-compare-json", []string{"compare", "--format", "json", "--min-n", "1", a, b}},
		{"ties-gate", []string{"gate", "--baseline", a, "--candidate", b, "--types", "VP", "--min-n", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := cli(t, t.Context(), tc.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			out = strings.ReplaceAll(out, filepath.Dir(a), "RUNS")
			golden(t, tc.name, out)
			if strings.Contains(out, "61.2 ") || strings.Contains(out, "61.2,") || strings.Contains(out, "61.2|") || strings.Contains(out, "8.7 ") {
				t.Errorf("a tie was rounded down:\n%s", out)
			}
		})
	}
	out, _, _ := cli(t, t.Context(), "report", a, b)
	if !strings.Contains(out, "tied (tie-a)") || !strings.Contains(out, "tied (tie-b)") {
		t.Errorf("rows with the same label are not told apart:\n%s", out)
	}
	if n := strings.Count(out, "61.3"); n < 2 {
		t.Errorf("the two runs tied at 61.25 print differently (61.3 %d times):\n%s", n, out)
	}
	latex, _, _ := cli(t, t.Context(), "report", "--format", "latex", "--paper", a, b)
	for i, r := range latex {
		if r > 126 {
			t.Fatalf("LaTeX output has non-ASCII %q at %d:\n%s", r, i, latex)
		}
	}
	if !strings.Contains(latex, `$\Delta$`) || !strings.Contains(latex, `$-$`) {
		t.Errorf("LaTeX lacks the math-mode Delta and minus:\n%s", latex)
	}
}

// TestSummaryJSONIsClean checks summary values in JSON: exact decimals,
// nulls where nothing was scored, no interval fields without --ci.
func TestSummaryJSONIsClean(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	results := evaltest.PaperResults([]evaltest.TypeCount{{Type: "Visual Perception", N: 3, Fifths: 5*2 + 1}})
	results[2].Status, results[2].Score, results[2].AllMet, results[2].Error = eval.StatusError, nil, nil, "answer: HTTP 500"
	results = append(results, evaltest.Result("cm", "Clinical Management", 1))
	results[3].Status, results[3].Score, results[3].AllMet = eval.StatusUnscored, nil, nil
	if err := evaltest.WriteRun(run, "m", results); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, t.Context(), "report", "--format", "json", run)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, `"lo"`) || strings.Contains(out, `"ci"`) {
		t.Errorf("interval fields without --ci:\n%s", out)
	}
	var doc struct {
		Rows []struct {
			Columns map[string]*float64 `json:"columns"`
			Summary struct {
				ByType []struct {
					QuestionType string   `json:"question_type"`
					Accuracy     *float64 `json:"accuracy"`
				} `json:"by_type"`
			} `json:"summary"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]*float64{}
	for _, ts := range doc.Rows[0].Summary.ByType {
		got[ts.QuestionType] = ts.Accuracy
	}
	// Two full items; the third, at 1/5, errored: (1 + 1) / 2.
	if v := got["Visual Perception"]; v == nil || *v != 100 {
		t.Errorf("VP accuracy = %v, want 100:\n%s", jsonOf(v), out)
	}
	if v, ok := got["Clinical Management"]; !ok || v != nil {
		t.Errorf("CM accuracy = %v (present %v), want null", v, ok)
	}
	if !strings.Contains(out, `"Clinical Management": null`) {
		t.Errorf("a column without scored items is not null:\n%s", out)
	}

	empty := filepath.Join(dir, "empty")
	if err := evaltest.WriteRun(empty, "m", nil); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = cli(t, t.Context(), "report", "--format", "json", empty)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`"by_type": []`, `"avg_micro": null`, `"avg_macro": null`} {
		if !strings.Contains(out, want) {
			t.Errorf("empty run: JSON lacks %s:\n%s", want, out)
		}
	}
}

// TestStatFlagsChecked runs every statistics flag with values out of its
// range: each is a usage error (exit 2) with a message naming the flag,
// never a panic or a run.
func TestStatFlagsChecked(t *testing.T) {
	t.Parallel()
	a, b := writeTiedRuns(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--ci", "--resamples", "-5", a}, "--resamples"},
		{[]string{"report", "--resamples", "0", a}, "--resamples"},
		{[]string{"report", "--seed", "0", a}, "--seed"},
		{[]string{"report", "--seed", "-1", a}, "seed"},
		{[]string{"compare", "--alpha", "0", a, b}, "--alpha"},
		{[]string{"compare", "--alpha", "1", a, b}, "--alpha"},
		{[]string{"compare", "--alpha", "NaN", a, b}, "--alpha"},
		{[]string{"compare", "--resamples", "-5", a, b}, "--resamples"},
		{[]string{"compare", "--min-n", "0", a, b}, "--min-n"},
		{[]string{"gate", "--baseline", a, "--candidate", b, "--max-drop", "-20"}, "--max-drop"},
		{[]string{"gate", "--baseline", a, "--candidate", b, "--max-drop", "Inf"}, "--max-drop"},
		{[]string{"gate", "--baseline", a, "--candidate", b, "--alpha", "1.5"}, "--alpha"},
		{[]string{"gate", "--baseline", a, "--candidate", b, "--min-n", "-3"}, "--min-n"},
		{[]string{"gate", "--baseline", a, "--candidate", b, "--max-error-rate", "2"}, "--max-error-rate"},
	} {
		t.Run(strings.Join(tc.args[:len(tc.args)-1], " "), func(t *testing.T) {
			t.Parallel()
			out, errOut, code := cli(t, t.Context(), tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 2 naming %s\nstdout:\n%s\nstderr:\n%s", code, tc.want, out, errOut)
			}
		})
	}
}

// TestNotARunDir checks every command that reads run directories on a
// missing path, a file and a folder without a manifest (exit 2), and on
// an unfinished run (exit 3, naming the command that finishes it).
func TestNotARunDir(t *testing.T) {
	t.Parallel()
	a, _ := writeTiedRuns(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	unfinished := filepath.Join(dir, "unfinished")
	os.Mkdir(unfinished, 0o755)
	if err := store.WriteJSON(filepath.Join(unfinished, "manifest.json"), rundir.Manifest{Args: []string{"run", "--data", "d.jsonl", "--out", "runs/x"}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		path string
		code int
		want string
	}{
		{filepath.Join(dir, "missing"), 2, "not a run directory"},
		{file, 2, "not a run directory"},
		{empty, 2, "not a run directory"},
		{unfinished, 3, "finish it with: psveval run --data d.jsonl --out runs/x"},
	} {
		for _, args := range [][]string{
			{"report", bad.path},
			{"compare", a, bad.path},
			{"compare", bad.path, a},
			{"gate", "--baseline", a, "--candidate", bad.path},
			{"judge", bad.path, "--judge-url", "http://127.0.0.1:1/v1", "--judge-model", "j", "--out", filepath.Join(t.TempDir(), "o")},
		} {
			out, errOut, code := cli(t, t.Context(), args...)
			if code != bad.code || !strings.Contains(out+errOut, bad.want) {
				t.Errorf("%v: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", args, code, bad.code, bad.want, out, errOut)
			}
		}
	}
}

// TestGateNeverPassesVacuously checks the two ways a gate could pass
// without checking anything: runs that share no items (exit 2, naming
// both fingerprints) and gated columns all under --min-n (exit 3).
func TestGateNeverPassesVacuously(t *testing.T) {
	t.Parallel()
	a, b := writeTiedRuns(t)
	other := filepath.Join(t.TempDir(), "other")
	rs := evaltest.RandomResults(40, 0.5, 3)
	for i := range rs {
		rs[i].ID = "other-" + rs[i].ID
	}
	if err := evaltest.WriteRun(other, "o", rs); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, t.Context(), "gate", "--baseline", a, "--candidate", other)
	if code != 2 || !strings.Contains(out, "share no scored items") || !strings.Contains(out, "fingerprints") {
		t.Errorf("disjoint runs: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = cli(t, t.Context(), "gate", "--baseline", a, "--candidate", b, "--types", "all", "--min-n", "1000")
	if code != 3 || !strings.HasPrefix(out, "gate: ERROR: nothing gated") || !strings.Contains(out, "--min-n 1000") {
		t.Errorf("all columns under --min-n: exit %d\n%s%s", code, out, errOut)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
