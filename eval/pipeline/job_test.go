package pipeline_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/judges"
)

// newJob returns a job over the first n items of the bundled JSONL set,
// against srv, into a fresh directory; key is the API key sent.
func newJob(t *testing.T, srv *llmtest.Server, n int, key string) *pipeline.Job {
	t.Helper()
	ds, err := dataset.Open("../../testdata/psv-mini.jsonl", dataset.Options{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	client := func(name string, params map[string]any) *llm.Client {
		return llm.New(llm.Config{Name: name, BaseURL: srv.URL, APIKey: key, Params: params, MaxAttempts: 2, RetryWaitMin: 1, RetryWaitMax: 1})
	}
	judge, err := judges.New(judges.Config{Model: llmtest.DefaultJudge, Client: client("judge", pipeline.JudgeParams(1024))})
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Job{
		Dataset: ds, Dir: filepath.Join(t.TempDir(), "run"), Concurrency: 4, JudgeConcurrency: 4,
		Model:  &pipeline.LLMModel{Model: "fake-vlm", Client: client("model", pipeline.GreedyParams(256, 0))},
		Judges: []eval.JudgeSpec{{Name: llmtest.DefaultJudge, Fingerprint: judge.Fingerprint(), Judge: judge}},
	}
}

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// TestJobAnswersJudgesAndResumes: a job records one answer and one
// judgment per item and finishes the run; running it again asks nothing.
func TestJobAnswersJudgesAndResumes(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, llmtest.Config{})
	job := newJob(t, srv, 12, "")
	out, err := job.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Summary; s.NItems != 12 || s.NScored != 12 || s.Run.Calls["model"].Requests != 12 || s.Run.Calls["judge"].Requests != 12 {
		t.Fatalf("summary: %d items, %d scored, calls %+v", s.NItems, s.NScored, s.Run.Calls)
	}
	for _, f := range []string{rundir.AnswersFile, rundir.JudgmentsFile, rundir.ResultsFile} {
		if n := lines(t, filepath.Join(job.Dir, f)); n != 12 {
			t.Errorf("%s has %d lines, want 12", f, n)
		}
	}
	before := srv.Requests("model") + srv.Requests("judge")
	again := newJob(t, srv, 12, "")
	again.Dir = job.Dir
	out2, err := again.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("model") + srv.Requests("judge") - before; n != 0 || out2.Summary.NScored != 12 {
		t.Errorf("the resume made %d requests and scored %d, want 0 and 12", n, out2.Summary.NScored)
	}
	if m := out2.Manifest; len(m.History) != 2 || m.Model.Model != "fake-vlm" || m.Scoring.Rule != "points" {
		t.Errorf("manifest: history %d, model %q, rule %q", len(m.History), m.Model.Model, m.Scoring.Rule)
	}
}

// TestJobCancelled: a cancelled job stops with what it saved, and the
// same job then finishes without asking again for what was recorded.
func TestJobCancelled(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, llmtest.Config{})
	job := newJob(t, srv, 20, "")
	inner := job.Model
	ctx, cancel := context.WithCancel(t.Context())
	var answered atomic.Int64
	job.Model = eval.ModelFunc(func(ctx context.Context, it eval.Item) (eval.Answer, error) {
		a, err := inner.Answer(ctx, it)
		if answered.Add(1) == 5 {
			cancel()
		}
		return a, err
	})
	job.Concurrency = 1
	_, err := job.Run(ctx)
	var se *pipeline.StoppedError
	if !errors.As(err, &se) || !se.Interrupted {
		t.Fatalf("Run = %v, want an interrupted *StoppedError", err)
	}
	saved := lines(t, filepath.Join(job.Dir, rundir.AnswersFile))
	if saved < 1 || saved != se.Answers {
		t.Errorf("%d answers saved, the error says %d", saved, se.Answers)
	}
	before := srv.Requests("model")
	job.Model = eval.ModelFunc(inner.Answer) // the same model: the manifest records no LLMModel
	out, err := job.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("model") - before; n != int64(20-saved) || out.Summary.NScored != 20 {
		t.Errorf("the resume asked the model %d times for %d unanswered items; %d scored", n, 20-saved, out.Summary.NScored)
	}
}

// TestJobFatalEndpointError: a refused key stops the job at once with a
// *StoppedError around the 401; nothing is recorded as an answer.
func TestJobFatalEndpointError(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, llmtest.Config{APIKey: "right"})
	job := newJob(t, srv, 10, "wrong")
	_, err := job.Run(t.Context())
	var se *pipeline.StoppedError
	var status *llm.StatusError
	if !errors.As(err, &se) || se.Interrupted || !errors.As(err, &status) || status.Status != 401 {
		t.Fatalf("Run = %v, want a *StoppedError around an HTTP 401", err)
	}
	if n := srv.Requests("model"); n > 4 {
		t.Errorf("%d model requests after a 401, want no more than the requests in flight", n)
	}
	if se.Answers != 0 {
		t.Errorf("%d answers recorded from refused requests", se.Answers)
	}
}

// TestJobRefusesOtherSettings: resuming a run with another model is a
// *ResumeError listing the difference; other model settings are not.
func TestJobRefusesOtherSettings(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, llmtest.Config{})
	job := newJob(t, srv, 3, "")
	if _, err := job.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	other := newJob(t, srv, 3, "")
	other.Dir = job.Dir
	other.Model.(*pipeline.LLMModel).Model = "lingshu-7b"
	_, err := other.Run(t.Context())
	var re *pipeline.ResumeError
	if !errors.As(err, &re) || len(re.Diffs) == 0 || !strings.Contains(re.Error(), "model.model: fake-vlm (recorded) vs lingshu-7b (now)") {
		t.Errorf("Run = %v, want a *ResumeError naming the model", err)
	}
}
