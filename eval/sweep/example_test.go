package sweep_test

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
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/sweep"
	"github.com/psveval/psveval/judges"
)

// Run a three-point λ sweep against the in-process fake server, each
// point a pipeline.Job, then analyse the curve.
func ExampleRun() {
	srv, _ := llmtest.Start(llmtest.Config{})
	defer srv.Close()
	out, _ := os.MkdirTemp("", "psveval-sweep-")
	defer os.RemoveAll(out)
	s := &sweep.Spec{Name: "moft", Axis: "lambda"}
	for _, v := range []float64{0, 0.5, 1} {
		s.Points = append(s.Points, sweep.Point{Value: v, Model: "fake-vlm", ModelURL: srv.URL})
	}
	opts := sweep.RunOptions{
		Parallel: 2, JudgeConcurrency: 8,
		Job: func(p sweep.Point, url string, judgeConc int) (*pipeline.Job, error) {
			ds, err := dataset.Open("../../testdata/psv-mini.jsonl", dataset.Options{Limit: 12})
			if err != nil {
				return nil, err
			}
			model := &pipeline.LLMModel{Model: p.Model, Client: llm.New(llm.Config{Name: "model", BaseURL: url, Params: pipeline.GreedyParams(512, 0)})}
			judge, err := judges.New(judges.Config{Model: llmtest.DefaultJudge, Client: llm.New(llm.Config{Name: "judge", BaseURL: srv.URL, Params: pipeline.JudgeParams(1024)})})
			if err != nil {
				return nil, err
			}
			return &pipeline.Job{Dataset: ds, Model: model, Dir: s.Dir(out, p), Concurrency: 4, JudgeConcurrency: judgeConc, Manifest: &rundir.Manifest{},
				Judges: []eval.JudgeSpec{{Name: llmtest.DefaultJudge, Fingerprint: judge.Fingerprint(), Judge: judge}}}, nil
		},
	}
	if err := sweep.Run(context.Background(), s, out, opts); err != nil {
		log.Fatal(err)
	}
	a, err := sweep.Analyse(out, s, stats.AggregateOptions{Resamples: 200, Seed: 1}, stats.CompareOptions{Resamples: 200, Seed: 1, Thresholds: stats.DefaultThresholds})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d points, %d steps, best values for %d columns\n", len(a.Runs), len(a.Steps), len(a.Best))
	// Output: 3 points, 2 steps, best values for 8 columns
}
