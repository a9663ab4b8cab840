package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/reports"
	"github.com/psveval/psveval/rubric"
)

// judgeOptions are the settings of psveval judge.
type judgeOptions struct {
	rf                          runFlags
	ef                          endpointFlags
	data, imageRoot, rubricFile string
	repeat                      int
	repeatSet                   bool
	src                         string
	args                        []string
}

// judgeCmd judges an existing run's answers again, writing a new run
// directory, without asking the model anything.
func judgeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("judge", "RUN_DIR --judge-url URL --judge-model NAME --out NEW_DIR [flags]", stderr)
	o := judgeOptions{args: args}
	o.rf.register(fs)
	o.ef.registerJudge(fs)
	o.ef.registerCalls(fs)
	fs.Uint64Var(&o.ef.criterionSeed, "seed", 1, "the same as --criterion-seed: the seed of --criterion-order shuffle")
	fs.StringVar(&o.data, "data", "", "dataset `file`, if it moved since the source run (default: the path in its manifest)")
	fs.StringVar(&o.imageRoot, "image-root", "", "`folder` image paths are relative to (default: the dataset's folder)")
	fs.StringVar(&o.rubricFile, "rubric", "", "default rubric `file` for items without one (default: the built-in one)")
	fs.IntVar(&o.repeat, "repeat", 1, "judge every answer `K` times (2 or more: the judge's noise floor), into --out/repeat-1 ... repeat-K, bypassing the cache")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cmdline.Usagef("judge takes one source run directory")
	}
	o.src = fs.Arg(0)
	fs.Visit(func(f *flag.Flag) { o.repeatSet = o.repeatSet || f.Name == "repeat" })
	logger, err := newLogger(stderr, o.rf.logLevel)
	if err != nil {
		return err
	}
	pj, source, err := o.job(logger, stderr)
	if err != nil {
		return err
	}
	d := display{progress: o.rf.progress, maxErrorRate: o.rf.maxErrorRate, source: source,
		resume: "psveval judge " + rundir.ShellJoin(llm.RedactArgs(args))}
	if o.repeat == 1 {
		_, err := execute(ctx, stdout, stderr, pj, d)
		return err
	}
	cmdline.Sayf(stderr, "note: judging every answer %d times; the judgment cache is bypassed, so every repeat asks the judge", o.repeat)
	r := 0
	noise, err := pipeline.Repeat(ctx, pj, o.repeat, func(ctx context.Context, rj *pipeline.Job) (*pipeline.Outcome, error) {
		r++
		rd := d
		rd.title = fmt.Sprintf("repeat %d of %d", r, o.repeat)
		return execute(ctx, stdout, stderr, rj, rd)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := (&reports.NoiseReport{Noise: noise, Width: cmdline.Width(stdout)}).Render(stdout, "text"); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(pj.Dir, rundir.NoiseFile))
	return nil
}

// job is the pipeline.Job that judges the source run's answers: its
// dataset, its answers copied into the new run directory, and a model
// that is never asked. It also returns the source run's fingerprint.
func (o *judgeOptions) job(logger *slog.Logger, stderr io.Writer) (*pipeline.Job, string, error) {
	if err := o.rf.validate(); err != nil {
		return nil, "", err
	}
	if o.rf.out == "" {
		return nil, "", cmdline.Usagef("give the new run directory: --out DIR")
	}
	if o.repeat < 2 && o.repeatSet || o.repeat > 100 {
		return nil, "", cmdline.Usagef("--repeat %d: want 2 to 100 repeats (the judge's noise needs two judgings at least; without --repeat, judge judges once)", o.repeat)
	}
	sm, err := rundir.Open(o.src)
	if err != nil {
		return nil, "", reportErr(fmt.Errorf("source run: %w", err))
	}
	var r *rubric.Rubric
	if o.rubricFile != "" {
		rb, err := rubric.Load(o.rubricFile)
		if err != nil {
			return nil, "", cmdline.Usage(err)
		}
		r = &rb
	}
	ds, err := pipeline.SourceDataset(sm, o.data, o.imageRoot, r)
	if err != nil {
		return nil, "", err
	}
	ef := &o.ef
	ef.adaptiveLimits()
	js, err := ef.newJudges(logger, cmdline.NoteTo(stderr))
	if err != nil {
		return nil, "", err
	}
	rule, _ := rubric.ParseRule(ef.score)
	abs, _ := filepath.Abs(o.src)
	m := &rundir.Manifest{
		Source: abs, Model: sm.Model, Judges: js.Infos, Scoring: pipeline.Scoring(rule), Args: append([]string{"judge"}, llm.RedactArgs(o.args)...),
		Settings: map[string]any{"judge_concurrency": ef.judgeConc, "max_attempts": ef.maxAttempts, "call_timeout": ef.callTimeout.String(), "sync_every": o.rf.syncEvery.String()},
	}
	pj := newJob(&o.rf, ef, ds, js, m, stderr)
	pj.Rule, pj.Logger = rule, logger
	pj.Rejudge(o.src)
	return pj, sm.Dataset.Fingerprint, nil
}
