package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/rubric"
)

// TestResultsFallBackToTheJournals: when an item is not handed over,
// the results writer writes results.jsonl from the journals, as it was
// written before, and gets the same bytes as the handed-over path; a run
// that stopped leaves none.
func TestResultsFallBackToTheJournals(t *testing.T) {
	t.Parallel()
	ds, err := dataset.Open("../../testdata/psv-mini.parquet", dataset.Options{Limit: 24})
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
	dir := filepath.Join(t.TempDir(), "run")
	job := &Job{Dataset: ds, Dir: dir, Concurrency: 4, JudgeConcurrency: 2,
		Model: eval.ModelFunc(func(_ context.Context, it eval.Item) (eval.Answer, error) {
			return eval.Answer{Text: "answer to " + it.ID, Model: "m"}, nil
		}),
		Judges: []eval.JudgeSpec{{Name: "j", Fingerprint: "jf", Judge: judge}}}
	if _, err := job.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, rundir.ResultsFile)
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	images := 0
	for it := range ds.All() {
		images += len(it.Images)
	}
	if images == 0 {
		t.Fatal("the fixture's first items have no images: the test needs them, since answer keys hash their digests")
	}
	answers, _, _ := store.OpenJournal(filepath.Join(dir, rundir.AnswersFile))
	defer answers.Close()
	judgments, _, _ := store.OpenJournal(filepath.Join(dir, rundir.JudgmentsFile))
	defer judgments.Close()
	hand := func(skip int, ok bool) resultsWritten {
		os.Remove(path)
		rw := job.startResults(answers, judgments, 24)
		n := 0
		for it, err := range ds.All() {
			if err != nil {
				t.Fatal(err)
			}
			var rec AnswerRecord
			if found, err := answers.Get(AnswerKey(job.Manifest.Model.ModelID(), &it), &rec); !found || err != nil {
				t.Fatalf("item %s: no answer in the journal (%v)", it.ID, err)
			}
			if n != skip {
				rw.add(Finished{N: n, Item: it.WithoutData(), Answer: &rec})
			}
			n++
		}
		return <-rw.finish(ok)
	}
	for _, skip := range []int{-1, 3} {
		out := hand(skip, true)
		got, _ := os.ReadFile(path)
		if out.err != nil || string(got) != string(want) || out.agg == nil {
			t.Errorf("skipping position %d: %v, results.jsonl equal to the run's: %v", skip, out.err, string(got) == string(want))
		}
	}
	if out := hand(-1, false); out.err == nil {
		t.Error("a stopped run's results: no error")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a stopped run left %s", path)
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("HTTP 500:\n<html>\n  <body>oops</body>\n</html>"); got != "HTTP 500: <html> <body>oops</body> </html>" {
		t.Errorf("oneLine = %q", got)
	}
	if got := []rune(oneLine(strings.Repeat("x ", 1000))); len(got) != 501 {
		t.Errorf("a long error kept %d characters, want 500 and an ellipsis", len(got))
	}
}

// TestOverflowed: a 400 about the context on an item with an image says
// how many of the prompt's tokens the image takes; other errors pass
// unchanged.
func TestOverflowed(t *testing.T) {
	it := eval.Item{Question: "Is there a mass?", Images: []eval.Image{{Width: 1024, Height: 1024}}}
	ctxErr := &llm.StatusError{Status: 400, Message: "the request exceeds the available context size, try increasing it"}
	err := overflowed(ctxErr, it)
	if !strings.Contains(err.Error(), "1 image take about 1339 of its ~1351 prompt tokens") || !errors.Is(err, ctxErr) {
		t.Errorf("overflowed = %v", err)
	}
	for _, other := range []*llm.StatusError{
		{Status: 400, Message: "bad request"},
		{Status: 400, Endpoint: "http://context-server:8000/v1", Message: "bad request"}, // the server's words decide, not its URL
		{Status: 500, Message: "context shift failed"},
	} {
		if overflowed(other, it) != error(other) {
			t.Errorf("%v was changed", other)
		}
	}
	if overflowed(ctxErr, eval.Item{Question: "q"}) != error(ctxErr) {
		t.Error("a text item's overflow was changed")
	}
}
