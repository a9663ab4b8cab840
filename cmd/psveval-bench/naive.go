package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"

	"github.com/sourcegraph/conc/pool"

	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/judges"
)

// naiveRun runs the design the pipeline replaced, as the baseline of the
// efficiency figure: one pool of workers, each answering an item and then
// judging it, so the model waits while its worker judges. It does what
// psveval run does with each item (greedy request, the same judge,
// journaled records), through the library.
func naiveRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("naive-run", flag.ContinueOnError)
	var cf childFlags
	cf.register(fs)
	out := fs.String("out", "", "run directory")
	workers := fs.Int("workers", 32, "workers, each answering then judging")
	ds, err := cf.parse(fs, args)
	if err != nil {
		return err
	}
	m := &pipeline.LLMModel{Model: cf.model,
		Client: llm.New(llm.Config{Name: "model", BaseURL: cf.url, Params: pipeline.GreedyParams(1024, 0), RetryBlank: true, IdleConns: *workers})}
	j, err := judges.New(judges.Config{Model: cf.judgeModel, Params: pipeline.JudgeParams(2048),
		Client: llm.New(llm.Config{Name: "judge", BaseURL: cf.url, Params: pipeline.JudgeParams(2048), RetryBlank: true, IdleConns: *workers})})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	answers, _, err := store.OpenJournal(filepath.Join(*out, rundir.AnswersFile))
	if err != nil {
		return err
	}
	defer answers.Close()
	judgments, _, err := store.OpenJournal(filepath.Join(*out, rundir.JudgmentsFile))
	if err != nil {
		return err
	}
	defer judgments.Close()
	p := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(*workers)
	for it, err := range ds.All() {
		if err != nil {
			return err
		}
		p.Go(func(ctx context.Context) error {
			a, err := m.Answer(ctx, it)
			if err != nil {
				return err
			}
			key := pipeline.AnswerKey(cf.model, &it)
			if err := answers.Append(key, false, pipeline.AnswerRecord{Key: key, Item: it.ID, Answer: a}); err != nil {
				return err
			}
			v, err := j.Judge(ctx, it, a)
			if err != nil {
				return err
			}
			jkey := pipeline.JudgmentKey(j.Fingerprint(), &it, a.Text)
			return judgments.Append(jkey, false, pipeline.JudgmentRecord{Key: jkey, Item: it.ID, Judge: cf.judgeModel, Verdict: v})
		})
	}
	return p.Wait()
}

// childFlags are the flags of the benchmark's own client programs
// (naive-run, lean-run): the dataset, and the fake server that plays the
// model and the judge.
type childFlags struct {
	data, url, model, judgeModel string
}

func (c *childFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", "", "dataset")
	fs.StringVar(&c.url, "url", "", "endpoint URL, for the model and the judge")
	fs.StringVar(&c.model, "model", "bench-vlm", "model name")
	fs.StringVar(&c.judgeModel, "judge-model", "fake-judge", "judge model name")
}

// parse parses args and opens the dataset.
func (c *childFlags) parse(fs *flag.FlagSet, args []string) (*dataset.Dataset, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return dataset.Open(c.data, dataset.Options{})
}
