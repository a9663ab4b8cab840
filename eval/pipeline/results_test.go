package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/rubric"
)

// funcJob is a job over the bundled JSONL set whose model and judge are
// functions.
func funcJob(t *testing.T, dir string, model eval.ModelFunc) *pipeline.Job {
	t.Helper()
	ds, err := dataset.Open("../../testdata/psv-mini.jsonl", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	judge := eval.JudgeFunc(func(_ context.Context, it eval.Item, ans eval.Answer) (eval.Verdict, error) {
		v := eval.Verdict{Model: "j"}
		for i := range it.Rubric {
			met := (len(ans.Text)+i)%2 == 0
			v.Criteria = append(v.Criteria, eval.CriterionVerdict{Dim: rubric.Labels(it.Rubric)[i], Met: &met})
		}
		return v, nil
	})
	return &pipeline.Job{Dataset: ds, Dir: dir, Concurrency: 8, JudgeConcurrency: 3, Model: model,
		Judges: []eval.JudgeSpec{{Name: "j", Fingerprint: "jf", Judge: judge}}}
}

// TestResultsWrittenBesideTheRun: results.jsonl, written as the run goes,
// is byte for byte what WriteResults writes from the finished journals.
func TestResultsWrittenBesideTheRun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	job := funcJob(t, dir, func(_ context.Context, it eval.Item) (eval.Answer, error) {
		if strings.HasSuffix(it.ID, "3") {
			return eval.Answer{}, errors.New("refused")
		}
		return eval.Answer{Text: "answer " + it.Question[:min(len(it.Question), 12)], Model: "m"}, nil
	})
	out, err := job.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	answers, _, _ := store.OpenJournal(filepath.Join(dir, rundir.AnswersFile))
	defer answers.Close()
	judgments, _, _ := store.OpenJournal(filepath.Join(dir, rundir.JudgmentsFile))
	defer judgments.Close()
	var want bytes.Buffer
	if _, err := pipeline.WriteResults(&want, job.Dataset.All(), answers, judgments, pipeline.FinalizeOptions{
		ModelID: job.Manifest.Model.ModelID(), Judges: job.Judges, Rule: rubric.DefaultRule}, func(eval.Result) {}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) || out.Summary.NItems != strings.Count(want.String(), "\n") || out.Summary.NErrors == 0 {
		t.Errorf("results.jsonl (%d bytes, %d items, %d errors) is not what WriteResults writes from the journals (%d bytes)",
			len(got), out.Summary.NItems, out.Summary.NErrors, want.Len())
	}
}

// TestRunnerDoneTellsEachItemOnce: Runner.Done hears every position
// once, in a fresh run and in a resume that finds everything done.
func TestRunnerDoneTellsEachItemOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	job := funcJob(t, dir, func(_ context.Context, it eval.Item) (eval.Answer, error) {
		if strings.HasSuffix(it.ID, "3") {
			return eval.Answer{}, errors.New("refused")
		}
		return eval.Answer{Text: "same answer"}, nil // shared judgments, where items share a rubric and question
	})
	answers, _, _ := store.OpenJournal(filepath.Join(dir, "a.jsonl"))
	defer answers.Close()
	judgments, _, _ := store.OpenJournal(filepath.Join(dir, "j.jsonl"))
	defer judgments.Close()
	for run := range 2 {
		var mu sync.Mutex
		seen := map[int]int{}
		r := &pipeline.Runner{Model: job.Model, ModelID: "m", Judges: job.Judges, Concurrency: 5, JudgeConcurrency: 2,
			Answers: answers, Judgments: judgments, Done: func(f pipeline.Finished) {
				mu.Lock()
				seen[f.N]++
				mu.Unlock()
				if f.Answer == nil {
					t.Errorf("run %d: position %d handed over without its answer", run+1, f.N)
				}
			}}
		if err := r.Run(t.Context(), job.Dataset.All()); err != nil {
			t.Fatal(err)
		}
		n := 0
		for range job.Dataset.All() {
			n++
		}
		for i := range n {
			if seen[i] != 1 {
				t.Errorf("run %d: position %d told %d times, want once", run+1, i, seen[i])
			}
		}
		if len(seen) != n {
			t.Errorf("run %d: %d positions told, want %d", run+1, len(seen), n)
		}
	}
}

// TestStoppedRunWritesNoResults: a run cancelled midway returns, and
// leaves no results.jsonl behind.
func TestStoppedRunWritesNoResults(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	asked := 0
	job := funcJob(t, dir, func(ctx context.Context, it eval.Item) (eval.Answer, error) {
		mu.Lock()
		asked++
		if asked == 5 {
			cancel()
		}
		mu.Unlock()
		return eval.Answer{Text: "x"}, ctx.Err()
	})
	if _, err := job.Run(ctx); !errors.As(err, new(*pipeline.StoppedError)) {
		t.Fatalf("Run = %v, want a *StoppedError", err)
	}
	if _, err := os.Stat(filepath.Join(dir, rundir.ResultsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a stopped run left %s: %v", rundir.ResultsFile, err)
	}
}
