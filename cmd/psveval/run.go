package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/reports"
	"github.com/psveval/psveval/rubric"
)

const runSynopsis = "--data FILE --model-url URL --model NAME --judge-url URL --judge-model NAME --out DIR [flags]"

// runFlags are the flags of psveval run that are not about endpoints.
type runFlags struct {
	config, out, cacheDir, progress, logLevel string
	noCache, dryRun                           bool
	priceIn, priceOut, maxErrorRate           float64
	syncEvery                                 time.Duration
}

func (r *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.config, "config", "", "YAML `file` of settings, keyed by flag name; flags given on the command line win")
	fs.StringVar(&r.out, "out", "", "run `directory`: created, or resumed when it holds a run with the same settings")
	fs.StringVar(&r.cacheDir, "cache", store.DefaultCacheDir(), "judgment cache `directory`, shared across runs")
	fs.BoolVar(&r.noCache, "no-cache", false, "do not read or write the judgment cache")
	fs.Float64Var(&r.priceIn, "judge-price-in", 0, "judge price per million input tokens, for a cost estimate (USD)")
	fs.Float64Var(&r.priceOut, "judge-price-out", 0, "judge price per million output tokens, for a cost estimate (USD)")
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
		return usageErrorf("--progress %q: want auto, bar, lines or none", r.progress)
	case !(r.maxErrorRate >= 0 && r.maxErrorRate <= 1):
		return usageErrorf("--max-error-rate %g: want a share between 0 and 1", r.maxErrorRate)
	case !(r.priceIn >= 0) || math.IsInf(r.priceIn, 0):
		return usageErrorf("--judge-price-in %g: want 0 or more USD per million tokens", r.priceIn)
	case !(r.priceOut >= 0) || math.IsInf(r.priceOut, 0):
		return usageErrorf("--judge-price-out %g: want 0 or more USD per million tokens", r.priceOut)
	case r.syncEvery < 0:
		return usageErrorf("--sync-every %v: want 0 (sync every line) or a positive duration", r.syncEvery)
	}
	return nil
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runTitled(ctx, args, stdout, stderr, "")
}

// runTitled is psveval run with a title over the printed table.
func runTitled(ctx context.Context, args []string, stdout, stderr io.Writer, title string) error {
	fs := newFlagSet("run", runSynopsis, stderr)
	var rf runFlags
	var df datasetFlags
	var ef endpointFlags
	rf.register(fs)
	df.register(fs)
	ef.registerModel(fs)
	ef.registerJudge(fs)
	ef.registerCalls(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := rf.validate(); err != nil {
		return err
	}
	if err := df.validate(); err != nil {
		return err
	}
	logger, err := newLogger(stderr, rf.logLevel)
	if err != nil {
		return err
	}
	minfo, err := ef.modelInfo()
	if err != nil {
		return err
	}
	if rf.out == "" && !rf.dryRun {
		return usageErrorf("give the run directory: --out DIR")
	}
	ds, err := df.open("")
	if err != nil {
		return err
	}
	ef.adaptiveLimits()
	model, modelClient := ef.newModel(logger, noteTo(stderr))
	specs, jinfos, judgeClients, err := ef.newJudges(logger, noteTo(stderr))
	if err != nil {
		return err
	}
	rule, _ := rubric.ParseRule(ef.score)
	j := &job{
		ds: ds, model: model, judges: specs, rule: rule, out: rf.out,
		clients: append([]*llm.Client{modelClient}, judgeClients...),
		conc:    ef.concurrency, judgeConc: ef.judgeConc, flags: rf, preflight: ef.preflight,
		modelAIMD: ef.modelAIMD, judgeAIMD: ef.judgeAIMD,
		logger: logger, resume: "psveval run " + rundir.ShellJoin(redactArgs(args)), title: title,
		manifest: &rundir.Manifest{Model: minfo, Judges: jinfos, Scoring: pipeline.Scoring(rule), Args: redactArgs(args),
			Settings: map[string]any{
				"concurrency": ef.concurrency, "judge_concurrency": ef.judgeConc, "max_attempts": ef.maxAttempts,
				"call_timeout": ef.callTimeout.String(), "model_rps": ef.modelRPS, "judge_rps": ef.judgeRPS,
				"max_response_bytes": ef.maxRespBytes, "max_image_bytes": df.maxImageBytes, "max_error_rate": rf.maxErrorRate,
				"sync_every": rf.syncEvery.String(),
			}},
	}
	if rf.dryRun {
		return j.dryRun(stdout, ef)
	}
	return j.execute(ctx, stdout, stderr)
}

// A job is one run or re-judging: a dataset, a model, judges and a run
// directory.
type job struct {
	// modelAIMD and judgeAIMD are the adaptive limits, when asked for.
	modelAIMD, judgeAIMD *llm.AIMD
	ds                   *dataset.Dataset
	model                eval.Model
	judges               []eval.JudgeSpec
	clients              []*llm.Client
	rule                 rubric.Rule
	out                  string
	conc                 int
	judgeConc            int
	flags                runFlags
	manifest             *rundir.Manifest
	logger               *slog.Logger
	resume               string
	// seed, when set, fills a new run directory's answer journal (psveval
	// judge copies the source run's answers).
	seed func(dir string) error
	// title labels the printed table.
	title string
	// sourceFingerprint is the source run's, for psveval judge.
	sourceFingerprint string
	// preflight checks the endpoints before the first item.
	preflight bool
}

func (j *job) execute(ctx context.Context, stdout, stderr io.Writer) error {
	if j.preflight {
		if err := j.checkEndpoints(ctx, stderr); err != nil {
			return err
		}
	}
	var cache *store.Cache
	if !j.flags.noCache && j.flags.cacheDir != "" {
		var err error
		if cache, err = store.OpenCache(j.flags.cacheDir); err != nil {
			fmt.Fprintf(stderr, "warning: %v; going on without the judgment cache\n", err)
		}
	}
	var ml, jl pipeline.Limiter
	if j.modelAIMD != nil {
		ml = j.modelAIMD
	}
	if j.judgeAIMD != nil {
		jl = j.judgeAIMD
	}
	pj := &pipeline.Job{
		ModelLimit: ml, JudgeLimit: jl,
		Dataset: j.ds, Model: j.model, Judges: j.judges, Rule: j.rule, Dir: j.out, Manifest: j.manifest,
		Concurrency: j.conc, JudgeConcurrency: j.judgeConc, Cache: cache, Seed: j.seed, SyncEvery: j.flags.syncEvery,
		JudgePrice: [2]float64{j.flags.priceIn, j.flags.priceOut}, Progress: &pipeline.Progress{},
		Notify: func(msg string) { fmt.Fprintln(stderr, msg) }, Logger: j.logger,
		RunInfo: func(ri *stats.RunInfo) {
			for name, a := range map[string]*llm.AIMD{"model": j.modelAIMD, "judge": j.judgeAIMD} {
				if a == nil {
					continue
				}
				if ri.LimitTrace == nil {
					ri.LimitTrace = map[string][]stats.LimitPoint{}
				}
				for _, p := range a.Trace() {
					ri.LimitTrace[name] = append(ri.LimitTrace[name], stats.LimitPoint{T: p.T, Limit: p.Limit})
				}
			}
			for _, c := range j.clients {
				for _, r := range c.Replicas() {
					ri.Replicas = append(ri.Replicas, stats.ReplicaCount{Endpoint: c.Name(), URL: r.URL, Requests: r.Requests, Failures: r.Failures, Served: r.Served})
				}
			}
		},
	}
	var limits func() string
	if j.modelAIMD != nil || j.judgeAIMD != nil {
		limits = func() string {
			show := func(a *llm.AIMD, n int) string {
				if a == nil {
					return strconv.Itoa(n)
				}
				return strconv.Itoa(a.Limit())
			}
			return "in flight ≤ " + show(j.modelAIMD, j.conc) + "/" + show(j.judgeAIMD, j.judgeConc)
		}
	}
	stopProgress := startProgress(stderr, pj.Progress, j.clients, j.flags.progress, limits)
	out, err := pj.Run(ctx)
	stopProgress()
	if err != nil {
		return j.failed(stderr, err)
	}
	if fp := out.Fingerprint.SHA256; j.sourceFingerprint != "" && fp != j.sourceFingerprint {
		fmt.Fprintf(stderr, "note: the items differ from the source run's (fingerprint %s vs %s), as a new default rubric makes them; answers are matched by question and images\n", rundir.ShortHash(fp), rundir.ShortHash(j.sourceFingerprint))
	}
	return j.report(stdout, stderr, out)
}

// failed explains a run that did not finish, and how to resume it.
func (j *job) failed(stderr io.Writer, err error) error {
	if re, ok := errors.AsType[*pipeline.ResumeError](err); ok {
		return &usageError{re}
	}
	se, ok := errors.AsType[*pipeline.StoppedError](err)
	if !ok {
		return err
	}
	saved := fmt.Sprintf("%s and %s saved in %s", eval.Nouns(se.Answers, "answer"), eval.Nouns(se.Judgments, "judgment"), j.out)
	if se.Interrupted {
		fmt.Fprintf(stderr, "interrupted: %s\nresume with: %s\n", saved, j.resume)
		return fmt.Errorf("interrupted: %w", se.Err)
	}
	fmt.Fprintf(stderr, "stopped: %v\n%s\nresume, once fixed, with: %s\n", se.Err, saved, j.resume)
	return se.Err
}

// report writes report.md, prints the table and the counts, and checks
// the error rate.
func (j *job) report(stdout, stderr io.Writer, out *pipeline.Outcome) error {
	s := out.Summary
	run := reports.Run{Label: j.label(), Summary: s, Manifest: out.Manifest}
	var md bytes.Buffer
	if err := (reports.Markdown{}).Report(&md, []reports.Run{run}, reports.Options{CI: true, Title: "psveval: " + run.Label}); err != nil {
		return err
	}
	if err := store.WriteFileAtomic(filepath.Join(j.out, rundir.ReportFile), md.Bytes()); err != nil {
		return err
	}
	if err := (reports.Text{}).Report(stdout, []reports.Run{run}, reports.Options{CI: true, Title: j.title, Width: termWidth(stdout)}); err != nil {
		return err
	}
	mc, jc := s.Run.Calls["model"], s.Run.Calls["judge"]
	fmt.Fprintf(stderr, "%s: %d scored, %d unscored, %s; HTTP retries: model %d, judge %d; %s, %s; %s\n",
		eval.Nouns(s.NItems, "item"), s.NScored, s.NUnscored, eval.Nouns(s.NErrors, "error"), mc.Retries, jc.Retries,
		eval.Nouns(jc.Repairs, "judge repair"), eval.Nouns(jc.LengthRetries, "length re-ask"), eval.Nouns(out.Totals.Cached, "cached judgment"))
	if s.Run.CostUSD != nil {
		fmt.Fprintf(stderr, "estimated judge cost: $%.2f (%d input, %d output tokens)\n", *s.Run.CostUSD, s.Usage.Judge.Prompt, s.Usage.Judge.Completion)
	}
	fmt.Fprintf(stderr, "wrote %s/{results.jsonl,summary.json,report.md,manifest.json}\n", j.out)
	if bad := s.NUnscored + s.NErrors; s.NItems > 0 && float64(bad)/float64(s.NItems) > j.flags.maxErrorRate {
		return fmt.Errorf("%d of %s unscored or errored (%.1f%%), above --max-error-rate %.1f%%; errored items are retried by running the same command again",
			bad, eval.Nouns(s.NItems, "item"), 100*float64(bad)/float64(s.NItems), 100*j.flags.maxErrorRate)
	}
	return nil
}

func (j *job) label() string {
	m := j.manifest.Model
	if m.ServedModel != "" {
		return m.ServedModel
	}
	return m.Model
}

// redactArgs removes credentials from URL arguments (--model-url
// http://user:pw@host/v1), so a printed resume command or a manifest never
// shows them. Keys never appear in arguments: they come from the
// environment.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if name, val, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "-") && strings.Contains(val, "://") {
			out[i] = name + "=" + llm.RedactURL(val)
		} else if strings.Contains(a, "://") {
			out[i] = llm.RedactURL(a)
		} else {
			out[i] = llm.RedactUserinfo(a) // a URL without a scheme
		}
	}
	return out
}
