package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/reports"
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
	repeat := fs.Int("repeat", 1, "judge every answer `K` times (2 or more: the judge's noise floor), into --out/repeat-1 ... repeat-K, bypassing the cache")
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
	if *repeat < 1 || *repeat > 100 {
		return usageErrorf("--repeat %d: want 1 to 100 (2 or more measure the judge's noise)", *repeat)
	}
	src := fs.Arg(0)
	sm, err := rundir.Open(src)
	if err != nil {
		return reportErr(fmt.Errorf("source run: %w", err))
	}
	logger, err := newLogger(stderr, rf.logLevel)
	if err != nil {
		return err
	}
	opts := sm.DatasetOptions(*imageRoot)
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
	ef.adaptiveLimits()
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
		conc: 1, judgeConc: ef.judgeConc, flags: rf, logger: logger, preflight: ef.preflight, judgeAIMD: ef.judgeAIMD,
		resume: "psveval judge " + rundir.ShellJoin(redactArgs(args)),
		manifest: &rundir.Manifest{
			Source: abs, Model: sm.Model, Judges: jinfos, Scoring: pipeline.Scoring(rule), Args: append([]string{"judge"}, redactArgs(args)...),
			Settings: map[string]any{"judge_concurrency": ef.judgeConc, "max_attempts": ef.maxAttempts, "call_timeout": ef.callTimeout.String(), "sync_every": rf.syncEvery.String()},
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
	if *repeat > 1 {
		return j.repeat(ctx, stdout, stderr, *repeat)
	}
	return j.execute(ctx, stdout, stderr)
}

// repeat judges the answers k times, each repeat an ordinary run
// directory under j.out with the judges' fingerprints marked by the
// repeat (so no repeat reuses another's verdicts, nor the cache), then
// measures the judge's noise across them into j.out/noise.json.
func (j *job) repeat(ctx context.Context, stdout, stderr io.Writer, k int) error {
	fmt.Fprintf(stderr, "note: judging every answer %d times; the judgment cache is bypassed, so every repeat asks the judge\n", k)
	var dirs []string
	for r := 1; r <= k; r++ {
		rj := *j
		rj.out = filepath.Join(j.out, fmt.Sprintf("repeat-%d", r))
		rj.flags.noCache = true
		rj.preflight = j.preflight && r == 1
		rj.title = fmt.Sprintf("repeat %d of %d", r, k)
		rj.judges = slices.Clone(j.judges)
		m := *j.manifest
		m.Judges = slices.Clone(j.manifest.Judges)
		for i := range rj.judges {
			rj.judges[i].Fingerprint += fmt.Sprintf("#repeat-%d", r)
			m.Judges[i].Fingerprint = rj.judges[i].Fingerprint
		}
		rj.manifest = &m
		if err := rj.execute(ctx, stdout, stderr); err != nil {
			return err
		}
		dirs = append(dirs, rj.out)
	}
	var verdicts []map[string]map[string]*bool
	var sums []*stats.Summary
	var items []string
	for i, d := range dirs {
		v, err := rundir.ReadVerdicts(d)
		if err != nil {
			return err
		}
		rd, err := rundir.LoadRun(d, stats.AggregateOptions{Resamples: stats.DefaultResamples, Seed: stats.DefaultSeed})
		if err != nil {
			return err
		}
		if i == 0 {
			items = v.Items
		}
		verdicts, sums = append(verdicts, v.Met), append(sums, rd.Summary)
	}
	noise := stats.Noise(items, verdicts, sums)
	if err := store.WriteJSON(filepath.Join(j.out, "noise.json"), noise); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := reports.Noise(stdout, noise, termWidth(stdout)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s/noise.json\n", j.out)
	return nil
}
