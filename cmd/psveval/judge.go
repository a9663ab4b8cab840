package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/rubric"
)

// judgeCmd judges an existing run's answers again, writing a new run
// directory, without asking the model anything.
func judgeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("judge", "RUN_DIR --judge-url URL --judge-model NAME --out NEW_DIR [flags]", stderr)
	var rf runFlags
	var ef endpointFlags
	rf.register(fs)
	ef.registerJudge(fs)
	ef.registerCalls(fs)
	data := fs.String("data", "", "dataset `file`, if it moved since the source run (default: the path in its manifest)")
	imageRoot := fs.String("image-root", "", "`folder` image paths are relative to (default: the dataset's folder)")
	rubricFile := fs.String("rubric", "", "default rubric `file` for items without one (default: the built-in one)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("judge takes one source run directory")
	}
	if err := rf.validate(); err != nil {
		return err
	}
	if rf.out == "" {
		return usageErrorf("give the new run directory: --out DIR")
	}
	src := fs.Arg(0)
	sm, err := rundir.OpenRunDir(src)
	if err != nil {
		return reportErr(fmt.Errorf("source run: %w", err))
	}
	logger, err := newLogger(stderr, rf.logLevel)
	if err != nil {
		return err
	}
	opts := dataset.DatasetOptions{ImageRoot: *imageRoot, Limit: sm.Dataset.Limit, Map: dataset.Mapping{}}
	for _, r := range dataset.Roles {
		c, ok := sm.Dataset.Mapping[string(r)]
		if !ok {
			c = "-"
		}
		opts.Map[r] = c
	}
	if *rubricFile != "" {
		r, err := rubric.Load(*rubricFile)
		if err != nil {
			return &usageError{err}
		}
		opts.Rubric = &r
	}
	path := sm.Dataset.Path
	if *data != "" {
		path = *data
	}
	ds, err := dataset.Open(path, opts)
	if err != nil {
		return err
	}
	specs, jinfos, clients, err := ef.newJudges(logger, noteTo(stderr))
	if err != nil {
		return err
	}
	rule, _ := rubric.ParseRule(ef.score)
	abs, _ := filepath.Abs(src)
	missing := eval.ModelFunc(func(ctx context.Context, it eval.Item) (eval.Answer, error) {
		return eval.Answer{}, fmt.Errorf("item %q has no answer in the source run %s (psveval judge asks no model)", it.ID, src)
	})
	j := &job{
		ds: ds, model: missing, judges: specs, clients: clients, rule: rule, out: rf.out,
		conc: 1, judgeConc: ef.judgeConc, flags: rf, logger: logger, preflight: ef.preflight,
		resume: "psveval judge " + rundir.ShellJoin(redactArgs(args)),
		manifest: &rundir.Manifest{
			Source: abs, Model: sm.Model, Judges: jinfos, Scoring: pipeline.Scoring(rule), Args: append([]string{"judge"}, redactArgs(args)...),
			Settings: map[string]any{"judge_concurrency": ef.judgeConc, "max_attempts": ef.maxAttempts, "call_timeout": ef.callTimeout.String()},
		},
		seed: func(dir string) error {
			b, err := os.ReadFile(filepath.Join(src, "answers.jsonl"))
			if err != nil {
				return fmt.Errorf("source run %s: %w", src, err)
			}
			return os.WriteFile(filepath.Join(dir, "answers.jsonl"), b, 0o644)
		},
	}
	j.manifest.Model.ServedModel = sm.Model.ServedModel
	j.sourceFingerprint = sm.Dataset.Fingerprint
	return j.execute(ctx, stdout, stderr)
}
