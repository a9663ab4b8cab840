package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// writeFile writes body to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRubricFiles: a rubric in the dataset's own shape is accepted, and
// files of other shapes are refused in the user's terms, before any call.
func TestRubricFiles(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	good := writeFile(t, dir, "dataset-shape.json", `[{"dim":"accuracy","score":1,"description":"right"},{"dim":"safety","score":1,"description":"safe"}]`)
	out := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--rubric", good, "--limit", "2", "--data", writeFile(t, dir, "two.jsonl",
		`{"id":"a","question":"Is it?","answer":"yes","question_type":"VP"}`+"\n"+`{"id":"b","question":"Is it not?","answer":"no","question_type":"FV"}`+"\n"))...); code != 0 {
		t.Fatalf("a dataset-shaped rubric: exit %d\n%s", code, stderr)
	}
	var m rundir.Manifest
	readJSON(t, filepath.Join(out, "manifest.json"), &m)
	if !strings.HasPrefix(m.Dataset.DefaultRubric.Version, "sha256:") {
		t.Errorf("rubric version %q, want the file's hash", m.Dataset.DefaultRubric.Version)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"wrapped list", `{"rubric":[{"dim":"a","score":1,"description":"x"}]}`, `unknown key "rubric"`},
		{"criteria object", `{"version":"v","criteria":{"dim":"a"}}`, `"criteria" must be a list`},
		{"list of lists", `[["a",1,"x"]]`, "criterion 1: want an object"},
		{"points text", `[{"dim":"a","score":"one","description":"x"}]`, `criterion 1: "score" must be a whole number, got the string "one"`},
		{"not JSON", "dim: a\n", "not valid JSON: line 1"},
	} {
		path := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".json", tc.body)
		out := filepath.Join(t.TempDir(), "run")
		_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--rubric", path)...)
		if code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "README") ||
			strings.Contains(stderr, "Go value") || strings.Contains(stderr, "unmarshal") {
			t.Errorf("%s: exit %d, want 2 with %q in the user's terms\n%s", tc.name, code, tc.want, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: a refused rubric left a run directory", tc.name)
		}
	}
}

// TestLongText: an oversized question is an input error naming the item;
// with --skip-bad-items it is skipped, counted in the summary and shown in
// every report's footnotes.
func TestLongText(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	data := writeFile(t, dir, "long.jsonl",
		`{"id":"ok-1","question":"Is there a mass?","answer":"yes","question_type":"VP"}`+"\n"+
			`{"id":"huge","question":"`+strings.Repeat("why ", 300)+`","answer":"no","question_type":"VP"}`+"\n"+
			`{"id":"ok-2","question":"Is it benign?","answer":"no","question_type":"DI"}`+"\n")
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--data", data, "--max-text-bytes", "1000")...)
	if code != 2 || !strings.Contains(stderr, `item "huge"`) || !strings.Contains(stderr, "--max-text-bytes") || !strings.Contains(stderr, "line 2") {
		t.Fatalf("exit %d, want 2 naming the item, its line and the limit\n%s", code, stderr)
	}
	out = filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--data", data, "--max-text-bytes", "1000", "--skip-bad-items")...); code != 0 {
		t.Fatalf("--skip-bad-items: exit %d\n%s", code, stderr)
	}
	var s stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	if s.NItems != 2 || s.Run == nil || s.Run.NSkipped != 1 {
		t.Errorf("summary: %d items, run info %+v; want 2 items and n_skipped 1", s.NItems, s.Run)
	}
	for _, format := range []string{"text", "markdown", "latex", "json"} {
		stdout, stderr, code := cli(t, t.Context(), "report", "--format", format, out)
		if code != 0 || !strings.Contains(stdout, "1 item skipped by --skip-bad-items") {
			t.Errorf("report --format %s: exit %d, no footnote on the skipped item\n%s%s", format, code, stdout, stderr)
		}
	}
	if stdout, _, _ := cli(t, t.Context(), "compare", out, out); !strings.Contains(stdout, "1 item skipped") {
		t.Errorf("compare does not note the skipped item:\n%s", stdout)
	}
	// judge takes the run as it was made: the skipped item stays skipped,
	// without flags judge does not have.
	again := filepath.Join(t.TempDir(), "again")
	_, stderr, code = cli(t, t.Context(), "judge", out, "--out", again, "--no-cache", "--progress", "none", "--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge)
	if code != 0 || strings.Contains(stderr, "items differ") {
		t.Fatalf("judge of a run made with --skip-bad-items: exit %d\n%s", code, stderr)
	}
	var js stats.Summary
	readJSON(t, filepath.Join(again, "summary.json"), &js)
	if js.NItems != 2 || js.Run.NSkipped != 1 {
		t.Errorf("the re-judging: %d items, %d skipped; want 2 and 1", js.NItems, js.Run.NSkipped)
	}
}

// TestPaperAbbreviations: types written as the paper's abbreviations are
// its six columns, in its order, once; types of another dataset get a
// warning and no difference row.
func TestPaperAbbreviations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var abbrev, other []eval.Result
	for i, r := range evaltest.RandomResults(4, 0.6, 5) {
		r.QuestionType = eval.QuestionTypeAbbrev[r.QuestionType]
		if i%2 == 0 {
			r.QuestionType = strings.ToLower(r.QuestionType)
		}
		abbrev = append(abbrev, r)
		r.QuestionType = []string{"PRES", "ABN", "MODALITY"}[i%3]
		other = append(other, r)
	}
	if err := evaltest.WriteRun(filepath.Join(dir, "abbrev"), "model-a", abbrev); err != nil {
		t.Fatal(err)
	}
	if err := evaltest.WriteRun(filepath.Join(dir, "other"), "model-b", other); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := cli(t, t.Context(), "report", "--paper", "--format", "csv", filepath.Join(dir, "abbrev"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	head := strings.Split(strings.SplitN(stdout, "\n", 2)[0], ",")
	want := []string{"model"}
	for _, c := range append(slices.Clone(eval.QuestionTypes), "Avg (micro)", "Avg (macro)") {
		want = append(want, c, c+" n")
	}
	if !slices.Equal(head, want) {
		t.Errorf("columns %q, want %q", head, want)
	}
	if !strings.Contains(stdout, "Δ model-a − Lingshu-7B") {
		t.Errorf("no difference row for a PSV2026 run:\n%s", stdout)
	}
	stdout, _, code = cli(t, t.Context(), "report", "--paper", filepath.Join(dir, "other"))
	if code != 0 || strings.Contains(stdout, "Δ ") || !strings.Contains(stdout, "describe PSV2026") || !strings.Contains(stdout, "ABN") {
		t.Errorf("a non-PSV2026 run with --paper: exit %d, want a warning naming its types and no difference row\n%s", code, stdout)
	}
}

// TestTablesFit renders the medvqa-like case, 13 groups with intervals,
// and two runs with long labels at 80 and 100 columns: every line fits.
func TestTablesFit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	types := []string{"ABN", "ATTRIB", "COLOR", "COUNT", "MODALITY", "ORGAN", "OTHER", "PLANE", "POS", "PRES", "SIZE", "yes/no", "open"}
	var rs []eval.Result
	for i, r := range evaltest.RandomResults(13, 0.6, 9) {
		r.QuestionType = types[i%len(types)]
		rs = append(rs, r)
	}
	rs[0].QuestionType = "single" // a group of one item: no interval
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := evaltest.WriteRun(a, "lingshu-7b-merged-lambda-0.25-checkpoint-final", rs); err != nil {
		t.Fatal(err)
	}
	if err := evaltest.WriteRun(b, "lingshu-7b-merged-lambda-0.50-checkpoint-final", evaltest.RandomResults(20, 0.6, 10)); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{80, 100} {
		w := fmt.Sprint(width)
		for name, args := range map[string][]string{
			"report-13-types": {"report", "--ci", "--width", w, a},
			"report-paper":    {"report", "--ci", "--paper", "--width", w, b, b},
			"compare-long":    {"compare", "--width", w, b, b},
		} {
			stdout, stderr, code := cli(t, t.Context(), args...)
			if code != 0 {
				t.Fatalf("%v: exit %d\n%s", args, code, stderr)
			}
			for l := range strings.Lines(stdout) {
				if n := utf8.RuneCountInString(strings.TrimRight(l, "\n")); n > width {
					t.Errorf("%s at %d columns: a line of %d:\n%s", name, width, n, l)
				}
			}
			if name == "report-13-types" && (strings.Contains(stdout, "[40.0, 40.0]") || !strings.Contains(stdout, "single")) {
				t.Errorf("a one-item group: %s", stdout)
			}
			golden(t, fmt.Sprintf("width-%d-%s", width, name), stdout)
		}
	}
}

// TestOutputsShareable: a run's outputs get the journals' mode, and
// report, compare and gate leave a run directory exactly as it was.
func TestOutputsShareable(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	out := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, out)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	journal, err := os.Stat(filepath.Join(out, "answers.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.jsonl", "summary.json", "report.md", "manifest.json"} {
		st, err := os.Stat(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != journal.Mode().Perm() {
			t.Errorf("%s has mode %v, the journals %v", f, st.Mode().Perm(), journal.Mode().Perm())
		}
	}
	before := snapshot(t, out)
	for _, args := range [][]string{
		{"report", "--ci", "--paper", out}, {"report", "--format", "json", "--by", "modality", out},
		{"compare", out, out}, {"gate", "--baseline", out, "--candidate", out},
	} {
		// The gate loads both runs, then refuses the same run twice (exit 2).
		if _, stderr, code := cli(t, t.Context(), args...); code != 0 && !(args[0] == "gate" && code == 2 && strings.Contains(stderr, "same run")) {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
	if after := snapshot(t, out); after != before {
		t.Errorf("report, compare or gate changed the run directory:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// snapshot lists every file under dir with its size, mode and time.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %v %s\n", p, st.Size(), st.Mode(), st.ModTime())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestResumeMovedEndpoint: a run resumed against another URL goes on,
// says so, and keeps both URLs in the manifest's history.
func TestResumeMovedEndpoint(t *testing.T) {
	t.Parallel()
	first := fakeServer(t, llmtest.Config{})
	moved := fakeServer(t, llmtest.Config{})
	out := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), runArgs(first, out, "--limit", "0")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	_, stderr, code := cli(t, t.Context(), runArgs(moved, out)...)
	if code != 0 || !strings.Contains(stderr, "another endpoint URL, model: "+first.URL+" -> "+moved.URL) {
		t.Fatalf("resume on a moved server: exit %d, want 0 and a note\n%s", code, stderr)
	}
	var m struct {
		History []rundir.Session `json:"history"`
	}
	readJSON(t, filepath.Join(out, "manifest.json"), &m)
	if len(m.History) != 2 || m.History[0].ModelURL != first.URL || m.History[1].ModelURL != moved.URL {
		b, _ := json.Marshal(m.History)
		t.Errorf("history %s, want the first and the moved URL", b)
	}
}

// TestByUnknownColumn: --by naming a column the runs lack is a usage
// error listing the columns there are.
func TestByUnknownColumn(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	if err := evaltest.WriteRun(dir, "m", evaltest.RandomResults(5, 0.5, 1)); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"report", "--by", "modalty", dir}, {"compare", "--by", "modalty", dir, dir}, {"gate", "--by", "modalty", "--baseline", dir, "--candidate", dir}} {
		stdout, stderr, code := cli(t, t.Context(), cmd...)
		if code != 2 || !strings.Contains(stdout+stderr, `"modalty"`) || !strings.Contains(stdout+stderr, "question_type, modality") {
			t.Errorf("%v: exit %d, want 2 listing the columns\n%s%s", cmd, code, stdout, stderr)
		}
	}
}

// TestConsistency: a whole number written as a string is a score in a
// --rubric file as in the dataset's rubric column; a flag mistake is
// printed once; help lists the flags without pointing at itself;
// report's format error names html too; judge --repeat 1 is refused.
func TestConsistency(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rub := filepath.Join(dir, "r.json")
	if err := os.WriteFile(rub, []byte(`[{"dim":"a","score":"1","description":"x"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := fakeServer(t, llmtest.Config{})
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, filepath.Join(dir, "run"), "--rubric", rub, "--limit", "3")...); code != 0 {
		t.Errorf(`a --rubric file with "score":"1": exit %d\n%s`, code, stderr)
	}
	_, stderr, code := cli(t, t.Context(), "report", "--nosuch", "x")
	if code != 2 || strings.Count(stderr, "not defined: -nosuch") != 1 {
		t.Errorf("a flag mistake: exit %d, printed %d times\n%s", code, strings.Count(stderr, "not defined: -nosuch"), stderr)
	}
	stdout, _, _ := cli(t, t.Context(), "help", "run")
	if strings.Contains(stdout, "psveval help run lists every flag") || !strings.Contains(stdout, "-max-error-rate") {
		t.Errorf("help run:\n%s", stdout)
	}
	if _, stderr, code := cli(t, t.Context(), "report", "--format", "pdf", filepath.Join(dir, "run")); code != 2 || !strings.Contains(stderr, "or html") {
		t.Errorf("report --format pdf: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := cli(t, t.Context(), "judge", filepath.Join(dir, "run"), "--out", filepath.Join(dir, "j"), "--repeat", "1",
		"--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge); code != 2 || !strings.Contains(stderr, "want 2 to 100") {
		t.Errorf("judge --repeat 1: exit %d\n%s", code, stderr)
	}
}
