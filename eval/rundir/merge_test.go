package rundir_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/judges"
)

// runInto runs the first 24 items of the bundled set, or one shard of
// them, into dir against srv.
func runInto(t *testing.T, srv *llmtest.Server, dir string, shard *dataset.Shard) {
	t.Helper()
	ds, err := dataset.Open("../../testdata/psv-mini.jsonl", dataset.Options{Limit: 24, Shard: shard})
	if err != nil {
		t.Fatal(err)
	}
	client := func(name string, params map[string]any) *llm.Client {
		return llm.New(llm.Config{Name: name, BaseURL: srv.URL, Params: params, MaxAttempts: 2})
	}
	judge, err := judges.New(judges.Config{Model: llmtest.DefaultJudge, Client: client("judge", pipeline.JudgeParams(1024))})
	if err != nil {
		t.Fatal(err)
	}
	job := &pipeline.Job{
		Dataset: ds, Dir: dir, Concurrency: 4, JudgeConcurrency: 4, Manifest: &rundir.Manifest{},
		Model:  &pipeline.LLMModel{Model: "fake-vlm", Client: client("model", pipeline.GreedyParams(256, 0))},
		Judges: []eval.JudgeSpec{{Name: llmtest.DefaultJudge, Fingerprint: judge.Fingerprint(), Judge: judge}},
	}
	if _, err := job.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
}

var times = regexp.MustCompile(`"(started|finished|answered_at|judged_at|latency_ms|judge_latency_ms)":[^,}]*`)

func results(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	return times.ReplaceAllString(string(b), "")
}

// TestMerge: three shards, given out of order, merge into the unsharded
// run's results, item for item, with the calls added up; and Merge
// refuses what is not one run's full set of shards, writing nothing.
func TestMerge(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, llmtest.Config{})
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole")
	runInto(t, srv, whole, nil)
	var shards []string
	for i := range 3 {
		d := filepath.Join(tmp, "shard", string(rune('0'+i)))
		runInto(t, srv, d, &dataset.Shard{Index: i, Count: 3})
		shards = append(shards, d)
	}
	out := filepath.Join(tmp, "merged")
	mg, err := rundir.Merge([]string{shards[2], shards[0], shards[1]}, out, rundir.MergeOptions{Args: []string{"--out", out}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := results(t, out), results(t, whole); got != want {
		t.Errorf("merged results.jsonl differs from the unsharded run's:\n%s\nwant\n%s", got, want)
	}
	if mg.Shards != 3 || mg.Items != 24 || mg.Summary.NItems != 24 || mg.Summary.Run.Calls["judge"].Requests != 24 {
		t.Errorf("Merge = %d shards, %d items, summary %d items, judge calls %+v; want 3, 24, 24, 24", mg.Shards, mg.Items, mg.Summary.NItems, mg.Summary.Run.Calls["judge"])
	}
	if len(mg.Manifest.Dataset.MergedFrom) != 3 || mg.Manifest.Args[0] != "merge" || mg.Manifest.Dataset.Shard != "" {
		t.Errorf("merged manifest: merged from %v, args %v, shard %q", mg.Manifest.Dataset.MergedFrom, mg.Manifest.Args, mg.Manifest.Dataset.Shard)
	}
	for _, f := range []string{rundir.AnswersFile, rundir.JudgmentsFile} {
		b, _ := os.ReadFile(filepath.Join(out, f))
		if n := bytes.Count(b, []byte("\n")); n != 24 {
			t.Errorf("merged %s has %d lines, want 24", f, n)
		}
	}
	if m, err := rundir.Open(out); err != nil || m.Finished == "" {
		t.Errorf("the merged directory does not open as a finished run: %v", err)
	}

	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"a shard missing", shards[:2], "shard 2/3 is missing"},
		{"a shard twice", []string{shards[0], shards[1], shards[1]}, "given twice"},
		{"not a shard", []string{whole}, "is not a shard"},
	} {
		dst := filepath.Join(tmp, "refused-"+strings.ReplaceAll(tc.name, " ", "-"))
		_, err := rundir.Merge(tc.dirs, dst, rundir.MergeOptions{})
		if _, ok := errors.AsType[*rundir.MergeError](err); !ok || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Merge = %v, want a *MergeError saying %q", tc.name, err, tc.want)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: Merge left %s behind", tc.name, dst)
		}
	}
	// A shard built by another psveval version is refused, naming both,
	// unless mixed versions are allowed.
	m, err := rundir.ReadManifest(shards[1])
	if err != nil {
		t.Fatal(err)
	}
	m.Tool.Version = "v9.9.9"
	if err := rundir.WriteManifest(shards[1], m); err != nil {
		t.Fatal(err)
	}
	if _, err := rundir.Merge(shards, filepath.Join(tmp, "mixed"), rundir.MergeOptions{}); err == nil || !strings.Contains(err.Error(), "v9.9.9") || !strings.Contains(err.Error(), "--allow-mixed-versions") {
		t.Errorf("Merge of shards from two versions = %v, want a refusal naming both", err)
	}
	if _, err := rundir.Merge(shards, filepath.Join(tmp, "mixed-ok"), rundir.MergeOptions{AllowMixedVersions: true}); err != nil {
		t.Errorf("Merge with AllowMixedVersions: %v", err)
	}
	if _, err := rundir.Merge(shards, out, rundir.MergeOptions{AllowMixedVersions: true}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Merge into a non-empty directory = %v, want a refusal", err)
	}
	if _, err := rundir.Merge([]string{filepath.Join(tmp, "nowhere")}, filepath.Join(tmp, "x"), rundir.MergeOptions{}); !errors.Is(err, rundir.ErrNotRunDir) {
		t.Errorf("Merge of a missing directory = %v, want ErrNotRunDir", err)
	}
}
