package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
	noCache, dryRun, naive                    bool
	priceIn, priceOut, maxErrorRate           float64
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
	fs.BoolVar(&r.naive, "naive", false, "for benchmarks: answer and judge each item in one pool, the design the pipeline replaces")
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
		logger: logger, resume: "psveval run " + rundir.ShellJoin(redactArgs(args)), title: titleOf(ctx),
		manifest: &rundir.Manifest{Model: minfo, Judges: jinfos, Scoring: scoring(rule), Args: redactArgs(args),
			Settings: map[string]any{
				"concurrency": ef.concurrency, "judge_concurrency": ef.judgeConc, "max_attempts": ef.maxAttempts,
				"call_timeout": ef.callTimeout.String(), "model_rps": ef.modelRPS, "judge_rps": ef.judgeRPS,
				"max_response_bytes": ef.maxRespBytes, "max_image_bytes": df.maxImageBytes, "max_error_rate": rf.maxErrorRate,
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
	ds        *dataset.Dataset
	model     eval.Model
	judges    []eval.JudgeSpec
	clients   []*llm.Client
	rule      rubric.Rule
	out       string
	conc      int
	judgeConc int
	flags     runFlags
	manifest  *rundir.Manifest
	logger    *slog.Logger
	resume    string
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
	fp, err := dataset.FingerprintOf(j.ds)
	if err != nil {
		return err
	}
	for _, s := range fp.Skipped {
		fmt.Fprintf(stderr, "skipped %s (%s): %s\n", s.ID, s.Pos, s.Reason)
	}
	j.manifest.Dataset = datasetInfo(j.ds, fp)
	if j.sourceFingerprint != "" && j.sourceFingerprint != fp.SHA256 {
		fmt.Fprintf(stderr, "note: the items differ from the source run's (fingerprint %s vs %s), as a new default rubric makes them; answers are matched by question and images\n", short(fp.SHA256), short(j.sourceFingerprint))
	}
	if j.manifest.Tool.Version == "" {
		j.manifest.Tool = toolInfo()
	}
	if j.preflight {
		if err := j.checkEndpoints(ctx, stderr); err != nil {
			return err
		}
	}
	resumed, err := j.prepareDir(stderr)
	if err != nil {
		return err
	}
	answers, warn, err := store.OpenJournal(filepath.Join(j.out, "answers.jsonl"))
	if err != nil {
		return err
	}
	defer answers.Close()
	if warn != "" {
		fmt.Fprintln(stderr, "warning:", warn)
	}
	judgments, warn, err := store.OpenJournal(filepath.Join(j.out, "judgments.jsonl"))
	if err != nil {
		return err
	}
	defer judgments.Close()
	if warn != "" {
		fmt.Fprintln(stderr, "warning:", warn)
	}
	var cache *store.Cache
	if !j.flags.noCache && j.flags.cacheDir != "" {
		if cache, err = store.OpenCache(j.flags.cacheDir); err != nil {
			fmt.Fprintf(stderr, "warning: %v; going on without the judgment cache\n", err)
		}
	}
	verb := "starting"
	if resumed {
		verb = fmt.Sprintf("resuming (%s, %s recorded)", eval.Nouns(answers.Len(), "answer"), eval.Nouns(judgments.Len(), "judgment"))
	}
	fmt.Fprintf(stderr, "%s %s: %s (fingerprint %s); columns: %s\n", verb, j.out, eval.Nouns(fp.Items, "item"), fp.SHA256[:12], j.ds.Mapping)
	r := &pipeline.Runner{
		Model: j.model, ModelID: j.manifest.Model.ModelID(), Judges: j.judges,
		Concurrency: j.conc, JudgeConcurrency: j.judgeConc,
		Answers: answers, Judgments: judgments, Cache: cache, Logger: j.logger, Progress: &pipeline.Progress{},
		Naive: j.flags.naive,
	}
	r.Progress.Total.Store(int64(fp.Items))
	stopProgress := startProgress(stderr, r.Progress, j.clients, j.flags.progress)
	// The first signal cancels ctx; from then on the default handling
	// returns, so a second Ctrl-C kills the process at once.
	release := context.AfterFunc(ctx, func() { stopSignals(ctx) })
	defer release()
	err = r.Run(ctx, j.ds)
	stopProgress()
	if err != nil {
		return j.stopped(ctx, stderr, err, answers, judgments)
	}
	return j.finish(stdout, stderr, answers, judgments, fp)
}

// stopped reports a run that did not finish and says how to resume it.
func (j *job) stopped(ctx context.Context, stderr io.Writer, err error, answers, judgments *store.Journal) error {
	var ie *eval.InputError
	if errors.As(err, &ie) {
		return err
	}
	saved := fmt.Sprintf("%s and %s saved in %s", eval.Nouns(answers.Len(), "answer"), eval.Nouns(judgments.Len(), "judgment"), j.out)
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "interrupted: %s\nresume with: %s\n", saved, j.resume)
		return fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	fmt.Fprintf(stderr, "stopped: %v\n%s\nresume, once fixed, with: %s\n", err, saved, j.resume)
	return err
}

// prepareDir creates the run directory, or checks that the one there holds
// a run with the same settings. It reports whether it resumes.
func (j *job) prepareDir(stderr io.Writer) (bool, error) {
	old, err := rundir.ReadManifest(j.out)
	switch {
	case err == nil:
		if diffs := old.Diff(j.manifest); len(diffs) > 0 {
			return false, usageErrorf("refusing to resume into %s: its run has other settings:\n  %s\nuse another --out, or the settings it was started with", j.out, strings.Join(diffs, "\n  "))
		}
		j.manifest.Created = old.Created
		j.manifest.Model.ServedModel = old.Model.ServedModel
		j.manifest.History = old.History
		if len(j.manifest.History) == 0 { // written before histories were kept
			j.manifest.History = []rundir.Session{old.Session(old.Created)}
		}
		j.manifest.History = append(j.manifest.History, j.manifest.Session(time.Now().UTC().Format(time.RFC3339)))
		for _, m := range old.Moved(j.manifest) {
			fmt.Fprintf(stderr, "note: resuming with another endpoint URL, %s (kept in manifest.json's history)\n", m)
		}
		return true, store.WriteJSON(filepath.Join(j.out, "manifest.json"), j.manifest)
	case !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	if entries, err := os.ReadDir(j.out); err == nil && len(entries) > 0 {
		return false, usageErrorf("%s exists, is not empty and holds no manifest.json: not a psveval run directory", j.out)
	}
	if err := os.MkdirAll(j.out, 0o755); err != nil {
		return false, err
	}
	if j.seed != nil {
		if err := j.seed(j.out); err != nil {
			return false, err
		}
	}
	j.manifest.Created = time.Now().UTC().Format(time.RFC3339)
	j.manifest.History = []rundir.Session{j.manifest.Session(j.manifest.Created)}
	return false, store.WriteJSON(filepath.Join(j.out, "manifest.json"), j.manifest)
}

// finish writes results.jsonl, summary.json and report.md from the
// journals, updates the manifest and prints the table.
func (j *job) finish(stdout, stderr io.Writer, answers, judgments *store.Journal, fp dataset.Fingerprint) error {
	agg := stats.NewAggregator(stats.AggregateOptions{})
	var tot pipeline.RunTotals
	err := store.WriteFileFunc(filepath.Join(j.out, "results.jsonl"), func(w io.Writer) error {
		var err error
		tot, err = pipeline.WriteResults(w, j.ds, answers, judgments, pipeline.FinalizeOptions{
			ModelID: j.manifest.Model.ModelID(), Judges: j.judges, Rule: j.rule,
		}, agg.Add)
		return err
	})
	if err != nil {
		return err
	}
	s, err := agg.Summary()
	if err != nil {
		return err
	}
	calls, err := pipeline.CountCalls(answers, judgments, j.judges)
	if err != nil {
		return err
	}
	s.Run = &stats.RunInfo{
		Calls:   calls,
		Retries: map[string]int64{"model": calls["model"].Retries, "judge": calls["judge"].Retries},
		Repairs: calls["judge"].Repairs, NSkipped: len(fp.Skipped), Skipped: fp.Skipped,
		ServedModels: map[string]string{"model": tot.ServedModel, "judge": tot.ServedJudge},
	}
	if j.flags.priceIn > 0 || j.flags.priceOut > 0 {
		c := (float64(s.Usage.Judge.Prompt)*j.flags.priceIn + float64(s.Usage.Judge.Completion)*j.flags.priceOut) / 1e6
		s.Run.CostUSD = &c
	}
	if err := store.WriteJSON(filepath.Join(j.out, "summary.json"), s); err != nil {
		return err
	}
	j.manifest.Finished = time.Now().UTC().Format(time.RFC3339)
	for i, spec := range j.judges {
		if l, ok := spec.Judge.(*judges.LLM); ok && i < len(j.manifest.Judges) {
			j.manifest.Judges[i].FormatUsed = l.FormatInUse()
		}
	}
	if tot.ServedModel != "" {
		j.manifest.Model.ServedModel = tot.ServedModel
	}
	for i := range j.manifest.Judges {
		j.manifest.Judges[i].ServedModel = tot.ServedJudge
	}
	if err := store.WriteJSON(filepath.Join(j.out, "manifest.json"), j.manifest); err != nil {
		return err
	}
	run := reports.Run{Label: j.label(), Summary: s, Manifest: j.manifest}
	var md bytes.Buffer
	if err := (reports.Markdown{}).Report(&md, []reports.Run{run}, reports.Options{CI: true, Title: "psveval: " + run.Label}); err != nil {
		return err
	}
	if err := store.WriteFileAtomic(filepath.Join(j.out, "report.md"), md.Bytes()); err != nil {
		return err
	}
	text, _ := reports.ByName("text")
	if err := text.Report(stdout, []reports.Run{run}, reports.Options{CI: true, Title: j.title, Width: termWidth(stdout)}); err != nil {
		return err
	}
	mc, jc := s.Run.Calls["model"], s.Run.Calls["judge"]
	fmt.Fprintf(stderr, "%s: %d scored, %d unscored, %s; HTTP retries: model %d, judge %d; %s, %s; %s\n",
		eval.Nouns(s.NItems, "item"), s.NScored, s.NUnscored, eval.Nouns(s.NErrors, "error"), mc.Retries, jc.Retries,
		eval.Nouns(jc.Repairs, "judge repair"), eval.Nouns(jc.LengthRetries, "length re-ask"), eval.Nouns(tot.Cached, "cached judgment"))
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

func datasetInfo(ds *dataset.Dataset, fp dataset.Fingerprint) rundir.DatasetInfo {
	m := map[string]string{}
	for r, c := range ds.Mapping {
		m[string(r)] = c
	}
	path, _ := filepath.Abs(ds.Path)
	return rundir.DatasetInfo{
		Path: path, Format: ds.Format, Fingerprint: fp.SHA256, Items: fp.Items, Limit: ds.Limit(),
		Mapping: m, Skipped: fp.Skipped,
		DefaultRubric: rundir.RubricInfo{Version: ds.Rubric.Version, SHA256: ds.Rubric.Hash},
	}
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
