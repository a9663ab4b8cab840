package sweep_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/sweep"
	"github.com/psveval/psveval/judges"
)

// TestRun runs a sweep's points as Jobs, without the CLI: every point's
// run directory is finished, at most Parallel points ran at once with
// the judge concurrency shared, and running the sweep again skips every
// point and asks nothing.
func TestRun(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, llmtest.Config{})
	out := t.TempDir()
	s := &sweep.Spec{Name: "moft", Axis: "lambda", Points: []sweep.Point{
		{Value: 1, Model: "fake-vlm", ModelURL: srv.URL}, {Value: 0, Model: "fake-vlm", ModelURL: srv.URL}, {Value: 0.5, Model: "fake-vlm", ModelURL: srv.URL},
	}}
	var mu sync.Mutex
	var shares []int
	var notes []string
	running, most := 0, 0
	opts := sweep.RunOptions{
		Parallel: 2, JudgeConcurrency: 8,
		Notify: func(msg string) { mu.Lock(); notes = append(notes, msg); mu.Unlock() },
		Job: func(p sweep.Point, url string, judgeConc int) (*pipeline.Job, error) {
			mu.Lock()
			shares = append(shares, judgeConc)
			mu.Unlock()
			return pointJob(t, url, s.Dir(out, p), judgeConc), nil
		},
		Exec: func(ctx context.Context, p sweep.Point, j *pipeline.Job) error {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			_, err := j.Run(ctx)
			mu.Lock()
			running--
			mu.Unlock()
			return err
		},
	}
	if err := sweep.Run(t.Context(), s, out, opts); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Points {
		if !rundir.Finished(s.Dir(out, p)) {
			t.Errorf("%s did not finish", s.Label(p))
		}
	}
	if len(shares) != 3 || shares[0] != 4 || most > 2 {
		t.Errorf("judge concurrency per point %v, most at once %d: want 3 points at 4 (8 shared by 2), at most 2 at once", shares, most)
	}
	before := srv.Requests("model") + srv.Requests("judge")
	notes = nil
	if err := sweep.Run(t.Context(), s, out, opts); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("model") + srv.Requests("judge") - before; n != 0 || len(shares) != 3 {
		t.Errorf("the second run made %d requests and built %d more jobs, want none", n, len(shares)-3)
	}
	if got := strings.Join(notes, "\n"); strings.Count(got, "finished, skipped") != 3 {
		t.Errorf("notes of the second run:\n%s\nwant every point skipped", got)
	}
}

// pointJob is a point's job: the first 8 items of the bundled set.
func pointJob(t *testing.T, url, dir string, judgeConc int) *pipeline.Job {
	ds, err := dataset.Open("../../testdata/psv-mini.jsonl", dataset.Options{Limit: 8})
	if err != nil {
		t.Error(err)
		return nil
	}
	client := func(name string, params map[string]any) *llm.Client {
		return llm.New(llm.Config{Name: name, BaseURL: url, Params: params, MaxAttempts: 2})
	}
	judge, _ := judges.New(judges.Config{Model: llmtest.DefaultJudge, Client: client("judge", pipeline.JudgeParams(1024))})
	return &pipeline.Job{
		Dataset: ds, Dir: dir, Concurrency: 2, JudgeConcurrency: judgeConc, Manifest: &rundir.Manifest{},
		Model:  &pipeline.LLMModel{Model: "fake-vlm", Client: client("model", pipeline.GreedyParams(256, 0))},
		Judges: []eval.JudgeSpec{{Name: llmtest.DefaultJudge, Fingerprint: judge.Fingerprint(), Judge: judge}},
	}
}
