package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

const fixture = "../../testdata/psv-mini.parquet"

// fixtureRefs reads the fixture's references once per test binary, when
// first asked: the binary also stands in for psveval (TestMain), run from
// other directories, where the fixture's relative path does not resolve.
var fixtureRefs = sync.OnceValue(func() map[string]string {
	refs, err := llmtest.References(fixture)
	if err != nil {
		panic(err)
	}
	return refs
})

func fakeServer(t *testing.T, cfg llmtest.Config) *llmtest.Server {
	if cfg.References == nil {
		cfg.References = fixtureRefs()
	}
	return llmtest.New(t, cfg)
}

// runArgs returns the arguments of a run of the fixture against srv.
func runArgs(srv *llmtest.Server, out string, extra ...string) []string {
	return append([]string{
		"run", "--data", fixture, "--out", out, "--no-cache", "--progress", "none",
		"--model-url", srv.URL, "--model", "lingshu-7b",
		"--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge,
	}, extra...)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// stripTimes removes the wall-clock fields, the only ones that may differ
// between two runs of the same items. With judgeUsage, it also removes the
// judge's token usage, which counts the repairs that malformed replies
// cost in a run with faults.
func stripTimes(t *testing.T, lines []string, judgeUsage ...bool) []string {
	t.Helper()
	out := make([]string, len(lines))
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "latency_ms")
		delete(m, "judge_latency_ms")
		if len(judgeUsage) > 0 && judgeUsage[0] {
			delete(m["usage"].(map[string]any), "judge")
		}
		b, _ := json.Marshal(m)
		out[i] = string(b)
	}
	return out
}

// sameRun fails unless run directory out ended as ref did: the same
// results (but for times) and the same summary, byte for byte.
func sameRun(t *testing.T, out, ref string) {
	t.Helper()
	got := stripTimes(t, readLines(t, filepath.Join(out, "results.jsonl")))
	want := stripTimes(t, readLines(t, filepath.Join(ref, "results.jsonl")))
	if !slices.Equal(got, want) {
		t.Errorf("%s/results.jsonl differs from %s/results.jsonl", out, ref)
	}
	a, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	b, _ := os.ReadFile(filepath.Join(ref, "summary.json"))
	if !bytes.Equal(a, b) {
		t.Errorf("summary.json differs:\n%s\nvs\n%s", a, b)
	}
}

func TestRunWritesEverything(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	srv.KeepBodies = true
	out := filepath.Join(t.TempDir(), "run")
	stdout, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--model-param", "repetition_penalty=null", "--model-param", "min_p=0.0")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "lingshu-7b") || !strings.Contains(stdout, "Avg") {
		t.Errorf("stdout lacks the table:\n%s", stdout)
	}
	// Truly greedy: every model request carries every sampling parameter.
	models := 0
	for _, r := range srv.Records() {
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if r.Kind == "judge" {
			if body["temperature"] != 0.0 || body["response_format"].(map[string]any)["type"] != "json_schema" {
				t.Errorf("judge request: temperature %v, response_format %v", body["temperature"], body["response_format"])
			}
			continue
		}
		models++
		for k, want := range map[string]any{"temperature": 0.0, "top_p": 1.0, "seed": 0.0, "max_tokens": 1024.0, "top_k": -1.0, "min_p": 0.0} {
			if got, ok := body[k]; !ok || got != want {
				t.Errorf("model request %q: %s = %v (sent: %v), want %v", r.Question, k, got, ok, want)
			}
		}
		if _, ok := body["repetition_penalty"]; ok {
			t.Error("repetition_penalty=null should drop the default")
		}
	}
	if models != 60 {
		t.Errorf("%d model requests, want 60", models)
	}
	lines := readLines(t, filepath.Join(out, "results.jsonl"))
	if len(lines) != 60 {
		t.Fatalf("results.jsonl has %d lines, want 60", len(lines))
	}
	var ids []string
	for _, l := range lines {
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		for _, f := range []string{"id", "question_type", "answer", "finish_reason", "criteria", "score", "all_met", "status", "usage", "latency_ms"} {
			if _, ok := m[f]; !ok {
				t.Fatalf("result lacks %q: %s", f, l)
			}
		}
		ids = append(ids, m["id"].(string))
	}
	if !slices.IsSorted(ids) || ids[0] != "psv-00000" {
		t.Errorf("results are not in dataset order: %v", ids[:5])
	}
	var sum map[string]any
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	for _, f := range []string{"n_items", "n_scored", "n_unscored", "n_errors", "by_type", "avg_micro", "avg_macro", "usage"} {
		if _, ok := sum[f]; !ok {
			t.Errorf("summary.json lacks %q", f)
		}
	}
	if sum["n_items"] != 60.0 || len(sum["by_type"].([]any)) != 6 {
		t.Errorf("summary: n_items %v, %d types", sum["n_items"], len(sum["by_type"].([]any)))
	}
	var m rundir.Manifest
	readJSON(t, filepath.Join(out, "manifest.json"), &m)
	if m.Model.Params["temperature"] != 0.0 || m.Model.Params["min_p"] != 0.0 || m.Model.ServedModel != "lingshu-7b" ||
		m.Dataset.Items != 60 || m.Dataset.Fingerprint == "" || m.Judges[0].Prompt.SHA256 == "" || m.Scoring.Rule != "points" || m.Finished == "" {
		t.Errorf("manifest misses settings: %+v", m)
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err != nil {
		t.Error(err)
	}
}

func TestResumeMakesNoRequests(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	out := filepath.Join(t.TempDir(), "run")
	args := runArgs(srv, out)
	if _, stderr, code := cli(t, t.Context(), args...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	first := map[string][]byte{}
	for _, f := range []string{"results.jsonl", "summary.json", "answers.jsonl", "judgments.jsonl"} {
		first[f], _ = os.ReadFile(filepath.Join(out, f))
	}
	m0, j0 := srv.Requests("model"), srv.Requests("judge")
	stdout, stderr, code := cli(t, t.Context(), args...)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	if m, j := srv.Requests("model")-m0, srv.Requests("judge")-j0; m != 0 || j != 0 {
		t.Errorf("resuming a finished run made %d model and %d judge requests, want 0", m, j)
	}
	if !strings.Contains(stderr, "resuming (60 answers, ") || !strings.Contains(stdout, "Avg") {
		t.Errorf("second run output:\n%s\n%s", stdout, stderr)
	}
	for f, b := range first {
		now, _ := os.ReadFile(filepath.Join(out, f))
		if !bytes.Equal(now, b) {
			t.Errorf("%s changed when a finished run was run again", f)
		}
	}
}

func TestInterruptedRunEqualsUninterrupted(t *testing.T) {
	t.Parallel()
	slow := llmtest.Config{ModelLatency: llmtest.Latency{Mean: 40 * time.Millisecond, Dist: "uniform"}, JudgeLatency: llmtest.Latency{Mean: 60 * time.Millisecond}}
	srv := fakeServer(t, slow)
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, ref, "--concurrency", "4", "--judge-concurrency", "4")...); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(dir, "run")
	args := runArgs(srv, out, "--concurrency", "4", "--judge-concurrency", "4")
	for round := 1; ; round++ {
		ctx, cancel := context.WithCancel(t.Context())
		start := srv.Requests("judge")
		go func() { // interrupt like Ctrl-C once some work is done
			for srv.Requests("judge")-start < 12 {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		_, stderr, code := cli(t, ctx, args...)
		cancel()
		if code == 0 {
			break
		}
		if code != 3 || !strings.Contains(stderr, "interrupted:") || !strings.Contains(stderr, "resume with: psveval run --data") {
			t.Fatalf("round %d: exit %d, stderr:\n%s", round, code, stderr)
		}
		if round > 10 {
			t.Fatal("the run never finished")
		}
	}
	sameRun(t, out, ref) // an interrupted and resumed run ends as an uninterrupted one
	answers := readLines(t, filepath.Join(out, "answers.jsonl"))
	if len(answers) != 60 {
		t.Errorf("answers.jsonl has %d lines, want 60: no answer is recorded twice", len(answers))
	}
}

func TestFatalErrorStopsRun(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{FailAfter: 20, FailKind: "model", FailStatus: 401,
		ModelLatency: llmtest.Latency{Mean: 10 * time.Millisecond}})
	out := filepath.Join(t.TempDir(), "run")
	start := time.Now()
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--concurrency", "4")...)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a fatal error took %v to stop the run", d)
	}
	for _, s := range []string{"HTTP 401", "check the API key in PSVEVAL_MODEL_API_KEY", "resume, once fixed, with: psveval run"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
	kept := readLines(t, filepath.Join(out, "answers.jsonl"))
	if len(kept) < 15 || len(kept) > 20 {
		t.Errorf("%d answers kept, want the ~20 answered before the 401", len(kept))
	}
	if srv.Requests("model") > 20+4 {
		t.Errorf("%d model requests: the run went on after the 401", srv.Requests("model"))
	}
	if _, err := os.Stat(filepath.Join(out, "results.jsonl")); err == nil {
		t.Error("an incomplete run wrote results.jsonl")
	}
	// Once fixed, the same command finishes the run.
	healthy := fakeServer(t, llmtest.Config{})
	args := runArgs(srv, out, "--concurrency", "4")
	args[slices.Index(args, srv.URL)] = healthy.URL
	args[slices.Index(args, srv.URL)] = healthy.URL
	if _, stderr, code := cli(t, t.Context(), args...); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	if n := healthy.Requests("model"); n != 60-int64(len(kept)) {
		t.Errorf("the resume asked the model %d times, want %d", n, 60-len(kept))
	}
}

func TestManifestMismatchIsRefused(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	out := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--limit", "6")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--limit", "6", "--model-param", "top_k=20"}, "model.params.top_k: -1 (recorded) vs 20 (now)"},
		{[]string{"--limit", "6", "--score", "all"}, `scoring.rule: points (recorded) vs all (now)`},
		{[]string{"--limit", "7"}, "dataset.fingerprint"},
		{[]string{"--limit", "6", "--judge-mode", "per-criterion"}, "judges[0].mode: joint (recorded) vs per-criterion (now)"},
	} {
		_, stderr, code := cli(t, t.Context(), runArgs(srv, out, tc.extra...)...)
		if code != 2 || !strings.Contains(stderr, "refusing to resume into") || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %s", tc.extra, code, stderr)
		}
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	junk := t.TempDir()
	os.WriteFile(filepath.Join(junk, "notes.txt"), []byte("mine"), 0o644)
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, junk)...); code != 2 || !strings.Contains(stderr, "not a psveval run directory") {
		t.Errorf("non-empty foreign directory: exit %d, %s", code, stderr)
	}
}

func TestJudgmentCacheAcrossRuns(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	args := func(out string) []string {
		a := runArgs(srv, filepath.Join(dir, out), "--cache", cache)
		return slices.DeleteFunc(a, func(s string) bool { return s == "--no-cache" })
	}
	if _, stderr, code := cli(t, t.Context(), args("a")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	j0 := srv.Requests("judge")
	_, stderr, code := cli(t, t.Context(), args("b")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := srv.Requests("judge") - j0; n != 0 {
		t.Errorf("a second run with the same answers made %d judge requests, want 0", n)
	}
	if !strings.Contains(stderr, "60 cached judgments") {
		t.Errorf("stderr does not count the cache hits:\n%s", stderr)
	}
	a := stripTimes(t, readLines(t, filepath.Join(dir, "a", "results.jsonl")))
	b := stripTimes(t, readLines(t, filepath.Join(dir, "b", "results.jsonl")))
	if !slices.Equal(a, b) {
		t.Error("cached verdicts differ from the originals")
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	stdout, stderr, code := cli(t, t.Context(), runArgs(srv, "", "--dry-run", "--judge-price", "input=0.28,cached=0.028,output=0.42")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, s := range []string{"items:            60 (60 images)", "model requests:   60", "judge requests:   60", "judge cost:", "shared prefix:"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("dry run output lacks %q:\n%s", s, stdout)
		}
	}
	if srv.Requests("model")+srv.Requests("judge") != 0 {
		t.Error("a dry run sent requests")
	}
}

// TestDryRunMeasuresRealPrompt checks that the judge estimate follows the
// prompt that would be sent: a 64 KB custom template and per-criterion
// mode both change it.
func TestDryRunMeasuresRealPrompt(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	judgeTokens := func(extra ...string) int {
		t.Helper()
		out, errOut, code := cli(t, t.Context(), runArgs(srv, "", append([]string{"--dry-run"}, extra...)...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		m := regexp.MustCompile(`judge requests:.*\n  input tokens:   ~(\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no judge input estimate:\n%s", out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	base := judgeTokens()
	tmpl := filepath.Join(t.TempDir(), "big.tmpl")
	big := `{{define "system"}}` + strings.Repeat("Grade carefully. ", 4000) + `{{end}}{{define "user"}}{{.Question}} {{.Answer}}{{end}}`
	if err := os.WriteFile(tmpl, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := judgeTokens("--judge-prompt", tmpl); got < base+60*15000 {
		t.Errorf("a 64 KB prompt estimates %d judge input tokens, the default %d", got, base)
	}
	if got := judgeTokens("--judge-mode", "per-criterion"); got <= base {
		t.Errorf("per-criterion mode estimates %d judge input tokens, joint %d", got, base)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := cli(t, t.Context(), "demo")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "SIMULATED ENDPOINTS") || !strings.Contains(stdout, "demo-vlm") || !strings.Contains(stdout, "VP Visual Perception") {
		t.Errorf("demo output:\n%s", stdout)
	}
}

func TestRejudgeReproducesVerdicts(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, src)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	m0, j0 := srv.Requests("model"), srv.Requests("judge")
	out := filepath.Join(dir, "again")
	_, stderr, code := cli(t, t.Context(), "judge", src, "--out", out, "--no-cache", "--progress", "none",
		"--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge)
	if code != 0 {
		t.Fatalf("judge: exit %d\n%s", code, stderr)
	}
	if n := srv.Requests("model") - m0; n != 0 {
		t.Errorf("psveval judge made %d model requests, want 0", n)
	}
	// Items with the same question, reference, rubric and answer share one
	// judgment: the fixture has a few.
	distinct := int64(len(readLines(t, filepath.Join(src, "judgments.jsonl"))))
	if n := srv.Requests("judge") - j0; n != distinct {
		t.Errorf("psveval judge made %d judge requests, want %d", n, distinct)
	}
	a := stripTimes(t, readLines(t, filepath.Join(src, "results.jsonl")))
	b := stripTimes(t, readLines(t, filepath.Join(out, "results.jsonl")))
	if !slices.Equal(a, b) {
		t.Error("re-judging with the same judge changed verdicts")
	}
	var m rundir.Manifest
	readJSON(t, filepath.Join(out, "manifest.json"), &m)
	if !strings.HasSuffix(m.Source, "src") || m.Model.Model != "lingshu-7b" {
		t.Errorf("manifest source %q model %q", m.Source, m.Model.Model)
	}
	// Another mode gives records of the same shape.
	pc := filepath.Join(dir, "per-criterion")
	_, stderr, code = cli(t, t.Context(), "judge", src, "--out", pc, "--no-cache", "--progress", "none",
		"--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge, "--judge-mode", "per-criterion")
	if code != 0 {
		t.Fatalf("per-criterion: exit %d\n%s", code, stderr)
	}
	if n := srv.Requests("judge") - j0 - distinct; n != 5*distinct {
		t.Errorf("per-criterion judging made %d requests, want %d (5 per judgment)", n, 5*distinct)
	}
	for _, l := range readLines(t, filepath.Join(pc, "results.jsonl")) {
		var r eval.Result
		json.Unmarshal([]byte(l), &r)
		if r.Status != "ok" || len(r.Criteria) != 5 || r.Criteria[0].Met == nil {
			t.Fatalf("per-criterion result: %s", l)
		}
	}
}

func TestSeveralJudgesVote(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	out := filepath.Join(t.TempDir(), "run")
	args := runArgs(srv, out, "--judge-model", "fake-judge-b", "--judge-model", "fake-judge-c", "--max-error-rate", "1")
	_, stderr, code := cli(t, t.Context(), args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var sum stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	ag := sum.Agreement
	if ag == nil || len(ag.Judges) != 3 || ag.FleissKappa == nil || ag.Units != 300 || ag.Percent <= 0 || ag.Percent >= 100 {
		t.Fatalf("agreement = %+v", ag)
	}
	var m rundir.Manifest
	readJSON(t, filepath.Join(out, "manifest.json"), &m)
	if len(m.Judges) != 3 || m.Judges[1].Model != "fake-judge-b" {
		t.Errorf("manifest judges: %+v", m.Judges)
	}
	// Each result holds the three votes, and the verdict is their majority.
	for _, l := range readLines(t, filepath.Join(out, "results.jsonl")) {
		var r eval.Result
		json.Unmarshal([]byte(l), &r)
		if len(r.Judges) != 3 {
			t.Fatalf("result has %d votes: %s", len(r.Judges), l)
		}
		for c := range r.Criteria {
			yes := 0
			for _, v := range r.Judges {
				if *v.Met[c] {
					yes++
				}
			}
			if *r.Criteria[c].Met != (yes >= 2) {
				t.Fatalf("criterion %d: %d of 3 said met, verdict %v", c, yes, *r.Criteria[c].Met)
			}
		}
	}
}
