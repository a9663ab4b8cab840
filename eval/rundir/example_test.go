package rundir_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/judges"
)

// Run two shards of twelve items against the in-process fake server, as
// two cluster tasks would, then merge them into one run directory.
func ExampleMerge() {
	srv, _ := llmtest.Start(llmtest.Config{})
	defer srv.Close()
	tmp, _ := os.MkdirTemp("", "psveval-merge-")
	defer os.RemoveAll(tmp)
	var shards []string
	for i := range 2 {
		ds, err := dataset.Open("../../testdata/psv-mini.jsonl", dataset.Options{Limit: 12, Shard: &dataset.Shard{Index: i, Count: 2}})
		if err != nil {
			log.Fatal(err)
		}
		model := &pipeline.LLMModel{Model: "fake-vlm", Client: llm.New(llm.Config{Name: "model", BaseURL: srv.URL, Params: pipeline.GreedyParams(512, 0)})}
		judge, _ := judges.New(judges.Config{Model: llmtest.DefaultJudge, Client: llm.New(llm.Config{Name: "judge", BaseURL: srv.URL, Params: pipeline.JudgeParams(1024)})})
		dir := filepath.Join(tmp, fmt.Sprintf("shard-%d", i))
		job := &pipeline.Job{Dataset: ds, Model: model, Dir: dir, Concurrency: 4, JudgeConcurrency: 4, Manifest: &rundir.Manifest{},
			Judges: []eval.JudgeSpec{{Name: llmtest.DefaultJudge, Fingerprint: judge.Fingerprint(), Judge: judge}}}
		if _, err := job.Run(context.Background()); err != nil {
			log.Fatal(err)
		}
		shards = append(shards, dir)
	}
	merged, err := rundir.Merge(shards, filepath.Join(tmp, "merged"), rundir.MergeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d shards, %d items, %d scored\n", merged.Shards, merged.Items, merged.Summary.NScored)
	// Output: 2 shards, 12 items, 12 scored
}
