package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/judges"
	"github.com/psveval/psveval/reports"
	"github.com/psveval/psveval/rubric"
)

const runSynopsis = "--data FILE --model-url URL --model NAME --judge-url URL --judge-model NAME --out DIR [flags]"

// runFlags are the flags of psveval run that are not about endpoints.
type runFlags struct {
	config, out, cacheDir, progress, logLevel string
	noCache, dryRun                           bool
	maxErrorRate, maxCost                     float64
	modelPrice, judgePrice                    cmdline.Price
	syncEvery                                 time.Duration
}

func (r *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.config, "config", "", "YAML `file` of settings, keyed by flag name; flags given on the command line win")
	fs.StringVar(&r.out, "out", "", "run `directory`: created, or resumed when it holds a run with the same settings")
	fs.StringVar(&r.cacheDir, "cache", store.DefaultCacheDir(), "judgment cache `directory`, shared across runs")
	fs.BoolVar(&r.noCache, "no-cache", false, "do not read or write the judgment cache")
	fs.Var(&r.judgePrice, "judge-price", "the judge's `prices` in USD per million tokens, input=…,cached=…,output=… (DeepSeek: input=0.28,cached=0.028,output=0.42); cached defaults to input")
	fs.Var(&r.modelPrice, "model-price", "the model's `prices`, as --judge-price")
	fs.Float64Var(&r.maxCost, "max-cost", 0, "stop starting requests once this invocation's spend, plus what is in flight, would pass this many `USD` (needs a price); running again finishes the run without paying twice")
	fs.BoolVar(&r.dryRun, "dry-run", false, "print the request count and a token estimate, and call nothing")
	fs.Float64Var(&r.maxErrorRate, "max-error-rate", 0.01, "exit 3 when unscored plus errored items exceed this share")
	fs.StringVar(&r.progress, "progress", "auto", "progress on stderr: auto, bar, lines or none")
	fs.StringVar(&r.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&r.syncEvery, "sync-every", 200*time.Millisecond, "how long a journalled answer or judgment may wait for its fsync (a power cut loses at most this much work; a killed process loses nothing); 0 syncs every line before going on")
}

// progressModes are the values of --progress.
var progressModes = []string{"auto", "bar", "lines", "none"}

// validate checks the run flags against their documented ranges and sets.
func (r *runFlags) validate() error {
	switch {
	case !slices.Contains(progressModes, r.progress):
		return cmdline.Usagef("--progress %q: want auto, bar, lines or none", r.progress)
	case !(r.maxErrorRate >= 0 && r.maxErrorRate <= 1):
		return cmdline.Usagef("--max-error-rate %g: want a share between 0 and 1", r.maxErrorRate)
	case !(r.maxCost >= 0) || math.IsInf(r.maxCost, 0):
		return cmdline.Usagef("--max-cost %g: want a budget of 0 (none) or more USD", r.maxCost)
	case r.maxCost > 0 && r.judgePrice.P.IsZero() && r.modelPrice.P.IsZero():
		return cmdline.Usagef("--max-cost needs prices to count spend: give --judge-price (and --model-price for a paid model)")
	case r.syncEvery < 0:
		return cmdline.Usagef("--sync-every %v: want 0 (sync every line) or a positive duration", r.syncEvery)
	}
	return cmdline.CheckOutDir("--out", r.out)
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, cmdline.Usagef("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("run", runSynopsis, stderr)
	var o runOptions
	o.register(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cmdline.Usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o.args = args
	return o.run(ctx, stdout, stderr)
}

// runOptions are the settings of psveval run: its flags, or a sweep
// point's or the demo's settings.
type runOptions struct {
	rf runFlags
	df datasetFlags
	ef endpointFlags
	// args are the command line that set the options, recorded in the
	// manifest and printed in the resume command.
	args []string
	// title labels the printed table.
	title string
	// out receives the finished job's outcome, when set (sweep).
	out func(*pipeline.Outcome)
}

// defaultRunOptions returns psveval run's options at their defaults.
func defaultRunOptions() *runOptions {
	var o runOptions
	o.register(flag.NewFlagSet("run", flag.ContinueOnError))
	return &o
}

func (o *runOptions) register(fs *flag.FlagSet) {
	o.rf.register(fs)
	o.df.register(fs)
	o.ef.registerModel(fs)
	o.ef.registerJudge(fs)
	o.ef.registerCalls(fs)
}

// run builds the job the options describe and runs it, or describes it
// with --dry-run.
func (o *runOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	logger, err := newLogger(stderr, o.rf.logLevel)
	if err != nil {
		return err
	}
	pj, err := o.job(logger, stderr)
	if err != nil {
		return err
	}
	if o.rf.dryRun {
		return dryRun(stdout, pj, o.ef.judgeMode)
	}
	d := display{progress: o.rf.progress, title: o.title, maxErrorRate: o.rf.maxErrorRate, resume: "psveval run " + rundir.ShellJoin(llm.RedactArgs(o.args))}
	out, err := execute(ctx, stdout, stderr, pj, d)
	if err == nil && o.out != nil {
		o.out(out)
	}
	return err
}

// job is the pipeline.Job the run options describe.
func (o *runOptions) job(logger *slog.Logger, stderr io.Writer) (*pipeline.Job, error) {
	rf, df, ef := &o.rf, &o.df, &o.ef
	if err := rf.validate(); err != nil {
		return nil, err
	}
	if err := df.validate(); err != nil {
		return nil, err
	}
	minfo, err := ef.modelInfo()
	if err != nil {
		return nil, err
	}
	if rf.out == "" && !rf.dryRun {
		return nil, cmdline.Usagef("give the run directory: --out DIR")
	}
	ds, err := df.open("")
	if err != nil {
		return nil, err
	}
	ef.adaptiveLimits()
	model, modelClient := ef.newModel(logger, cmdline.NoteTo(stderr))
	js, err := ef.newJudges(logger, cmdline.NoteTo(stderr))
	if err != nil {
		return nil, err
	}
	rule, _ := rubric.ParseRule(ef.score)
	m := &rundir.Manifest{Model: minfo, Judges: js.Infos, Scoring: pipeline.Scoring(rule), Args: llm.RedactArgs(o.args),
		Settings: map[string]any{
			"concurrency": ef.concurrency, "judge_concurrency": ef.judgeConc, "max_attempts": ef.maxAttempts,
			"call_timeout": ef.callTimeout.String(), "model_rps": ef.modelRPS, "judge_rps": ef.judgeRPS,
			"max_response_bytes": ef.maxRespBytes, "max_image_bytes": df.maxImageBytes, "max_error_rate": rf.maxErrorRate,
			"sync_every": rf.syncEvery.String(),
		}}
	pj := newJob(rf, ef, ds, js, m, stderr)
	pj.Model, pj.Rule, pj.Concurrency, pj.Logger = model, rule, ef.concurrency, logger
	pj.Endpoints = append([]pipeline.Endpoint{{Client: modelClient, Model: ef.model, Flag: "--model"}}, pj.Endpoints...)
	return pj, nil
}

// newJob is the part of a pipeline.Job that psveval run and psveval judge
// build alike: the dataset, the judges, the run directory and the
// settings they share. The caller sets the model.
func newJob(rf *runFlags, ef *endpointFlags, ds *dataset.Dataset, js *judges.Panel, m *rundir.Manifest, stderr io.Writer) *pipeline.Job {
	pj := &pipeline.Job{
		Dataset: ds, Judges: js.Specs, Dir: rf.out, Manifest: m, Concurrency: 1, JudgeConcurrency: ef.judgeConc,
		SyncEvery: rf.syncEvery, ModelPrice: rf.modelPrice.P, JudgePrice: rf.judgePrice.P, MaxCost: rf.maxCost, Progress: &pipeline.Progress{},
		Preflight: true, AllowUnlisted: !ef.preflight, Notify: func(msg string) { cmdline.Sayf(stderr, "%s", msg) },
	}
	if ef.modelAIMD != nil {
		pj.ModelLimit = ef.modelAIMD
	}
	if ef.judgeAIMD != nil {
		pj.JudgeLimit = ef.judgeAIMD
	}
	for i, c := range js.Clients {
		pj.Endpoints = append(pj.Endpoints, pipeline.Endpoint{Client: c, Model: js.Infos[i].Model, Flag: "--judge-model"})
	}
	if !rf.noCache && rf.cacheDir != "" {
		cache, err := store.OpenCache(rf.cacheDir)
		if err != nil {
			cmdline.Sayf(stderr, "warning: %v; going on without the judgment cache", err)
		}
		pj.Cache = cache
	}
	return pj
}

// display says how a job is shown as it runs and when it ends.
type display struct {
	progress, title, resume string
	maxErrorRate            float64
	// source is the fingerprint of the run a re-judging judges, or "".
	source string
}

// execute runs pj, showing its progress, then prints its table, writes
// report.md and checks the error rate.
func execute(ctx context.Context, stdout, stderr io.Writer, pj *pipeline.Job, d display) (*pipeline.Outcome, error) {
	var clients []*llm.Client
	for _, ep := range pj.Endpoints {
		clients = append(clients, ep.Client)
	}
	pj.Logger = cmp.Or(pj.Logger, slog.New(slog.DiscardHandler))
	stopProgress := startProgress(stderr, pj.Progress, clients, d.progress, limitsOf(pj))
	out, err := pj.Run(ctx)
	stopProgress()
	if err != nil {
		return nil, failed(stderr, err, pj.Dir, d.resume)
	}
	if fp := out.Fingerprint.SHA256; d.source != "" && fp != d.source {
		cmdline.Sayf(stderr, "note: the items differ from the source run's (fingerprint %s vs %s), as a new default rubric makes them; answers are matched by question and images\n", rundir.ShortHash(fp), rundir.ShortHash(d.source))
	}
	return out, finished(stdout, stderr, pj.Dir, out, d)
}

// limitsOf shows the adaptive limits in the progress line, or is nil
// when the job has none.
func limitsOf(pj *pipeline.Job) func() string {
	type limit interface{ Limit() int }
	ml, mok := pj.ModelLimit.(limit)
	jl, jok := pj.JudgeLimit.(limit)
	if !mok && !jok {
		return nil
	}
	show := func(l limit, ok bool, n int) string {
		if !ok {
			return strconv.Itoa(n)
		}
		return strconv.Itoa(l.Limit())
	}
	return func() string {
		return "in flight ≤ " + show(ml, mok, pj.Concurrency) + "/" + show(jl, jok, pj.JudgeConcurrency)
	}
}

// failed explains a run that did not finish, and how to resume it.
func failed(stderr io.Writer, err error, dir, resume string) error {
	if re, ok := errors.AsType[*pipeline.ResumeError](err); ok {
		return cmdline.Usage(re)
	}
	if ns, ok := errors.AsType[*pipeline.NotServedError](err); ok {
		return cmdline.Usage(ns)
	}
	se, ok := errors.AsType[*pipeline.StoppedError](err)
	if !ok {
		return err
	}
	saved := fmt.Sprintf("%s and %s saved in %s", eval.Nouns(se.Answers, "answer"), eval.Nouns(se.Judgments, "judgment"), dir)
	if se.Interrupted {
		fmt.Fprintf(stderr, "interrupted: %s\nresume with: %s\n", saved, resume)
		return cmdline.Printed(fmt.Errorf("interrupted: %w", se.Err))
	}
	// One message: why, what is saved, and the command that resumes.
	cmdline.Sayf(stderr, "stopped: %v", se.Err)
	cmdline.Sayf(stderr, "%s", saved)
	fmt.Fprintf(stderr, "resume, once fixed, with: %s\n", resume)
	return cmdline.Printed(se.Err)
}

// finished writes report.md, prints the table and the counts, and checks
// the error rate.
func finished(stdout, stderr io.Writer, dir string, out *pipeline.Outcome, d display) error {
	s := out.Summary
	run := reports.Run{Label: out.Manifest.Label(), Dir: dir, Summary: s, Manifest: out.Manifest}
	if err := reports.Finished(stdout, run, reports.Options{Title: d.title, Width: cmdline.Width(stdout)}); err != nil {
		return err
	}
	for _, l := range reports.RunLines(dir, s, out.Manifest, out.Totals.Cached) {
		cmdline.Sayf(stderr, "%s", l)
	}
	if err := stats.CheckErrorRate(s, d.maxErrorRate); err != nil {
		return fmt.Errorf("%w; errored items are retried by running the same command again", err)
	}
	return nil
}
