package pipeline_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/judges"
)

// Evaluate six items against the in-process fake server, through the
// library: a dataset, a greedy model, a judge, and a Job.
func Example() {
	srv, _ := llmtest.Start(llmtest.Config{})
	defer srv.Close()
	ds, err := dataset.Open("../../testdata/psv-mini.jsonl", dataset.Options{Limit: 6})
	if err != nil {
		log.Fatal(err)
	}
	model := &pipeline.LLMModel{Model: "fake-vlm", Client: llm.New(llm.Config{Name: "model", BaseURL: srv.URL, Params: pipeline.GreedyParams(512, 0)})}
	judge, _ := judges.New(judges.Config{Model: llmtest.DefaultJudge, Client: llm.New(llm.Config{Name: "judge", BaseURL: srv.URL, Params: pipeline.JudgeParams(1024)})})
	dir, _ := os.MkdirTemp("", "psveval-example-")
	defer os.RemoveAll(dir)
	job := &pipeline.Job{Dataset: ds, Model: model, Dir: dir, Concurrency: 4, JudgeConcurrency: 4,
		Judges: []eval.JudgeSpec{{Name: llmtest.DefaultJudge, Fingerprint: judge.Fingerprint(), Judge: judge}}}
	out, err := job.Run(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d items, %d scored; results in %s\n", out.Summary.NItems, out.Summary.NScored, "results.jsonl")
	// Output: 6 items, 6 scored; results in results.jsonl
}
