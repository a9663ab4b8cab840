package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/rubric"
)

// A Job evaluates a dataset into a run directory. Run creates the
// directory, or resumes the run in it when its manifest records the same
// settings; answers and judges every item not yet recorded, journaling
// each call as it completes; and finishes the run: results.jsonl,
// summary.json and the final manifest.json. A Job is the whole engine
// behind psveval run and psveval judge, usable from any Go program.
type Job struct {
	// Dataset is the items to evaluate.
	Dataset *dataset.Dataset
	// Model answers the items; Judges grade the answers.
	Model  eval.Model
	Judges []eval.JudgeSpec
	// Rule scores an item from its verdicts (default: rubric.DefaultRule).
	Rule rubric.Rule
	// Dir is the run directory.
	Dir string
	// Manifest holds the settings to record: Model, Judges, Scoring,
	// Args, Settings, Source. Run fills in the tool, the dataset, the
	// times and the history, and, where left empty, the model (from an
	// *LLMModel), the judges and the scoring rule.
	Manifest *rundir.Manifest
	// Concurrency and JudgeConcurrency bound the requests in flight to
	// the model and to the judges (default 1).
	Concurrency, JudgeConcurrency int
	// ModelLimit and JudgeLimit, when set, decide the requests in flight
	// (up to Concurrency and JudgeConcurrency): adaptive limits.
	ModelLimit, JudgeLimit Limiter
	// Cache, when set, keeps judgments across runs.
	Cache *store.Cache
	// SyncEvery is the journals' store.Journal.SyncEvery: how long a
	// written answer or judgment may wait for its fsync. 0 syncs each
	// before going on.
	SyncEvery time.Duration
	// Seed, when set, fills a new run directory's answer journal before
	// the run starts (psveval judge copies a run's answers).
	Seed func(dir string) error
	// ModelPrice and JudgePrice price the tokens the endpoints bill, for
	// the summary's cost and the spend shown as the run goes; zero when
	// none was given. The manifest records them.
	ModelPrice, JudgePrice eval.Price
	// MaxCost, when positive, is this invocation's budget in USD: once
	// what it has spent, plus what its requests in flight will likely
	// cost, would pass it, no new request starts; those in flight finish
	// and are journaled, and Run returns a *StoppedError wrapping a
	// *BudgetError. Running again resumes without paying twice.
	MaxCost float64
	// Endpoints are the clients the model and the judges send to: each is
	// checked before the first item when Preflight is set, and its
	// replicas' traffic is recorded in the summary.
	Endpoints []Endpoint
	// Preflight checks every endpoint before the first item: one that
	// cannot be reached, refuses the key or answers with an HTML page
	// stops the run, even when every judgment would come from the cache;
	// a model it does not list is a [NotServedError] unless AllowUnlisted
	// (for a gateway that routes names it does not list).
	Preflight, AllowUnlisted bool
	// Progress, when set, counts the work as it happens.
	Progress *Progress
	// Notify receives what a person running the job should know: items
	// skipped, journal repairs, a resume and what it found, endpoints
	// that moved. Nil discards it.
	Notify func(msg string)
	Logger *slog.Logger
}

// dirExists reports whether dir exists.
func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

// An Outcome is a finished run.
type Outcome struct {
	Summary     *stats.Summary
	Manifest    *rundir.Manifest
	Fingerprint dataset.Fingerprint
	Totals      RunTotals
}

// A ResumeError refuses to resume a run directory whose manifest records
// other settings, or a directory that holds no run.
type ResumeError struct {
	Dir   string
	Diffs []string // empty: not a run directory
}

func (e *ResumeError) Error() string {
	if len(e.Diffs) == 0 {
		return fmt.Sprintf("%s exists, is not empty and holds no manifest.json: not a psveval run directory", e.Dir)
	}
	var msg strings.Builder
	msg.WriteString(fmt.Sprintf("refusing to resume into %s: its run has other settings:", e.Dir))
	for _, d := range e.Diffs {
		msg.WriteString("\n  " + d)
	}
	return msg.String() + "\nuse another --out, or the settings it was started with"
}

// A StoppedError reports a run that stopped before it finished, with what
// it saved: the same Job resumes it.
type StoppedError struct {
	Err                error
	Answers, Judgments int
	Interrupted        bool // the context was cancelled
}

func (e *StoppedError) Error() string { return e.Err.Error() }
func (e *StoppedError) Unwrap() error { return e.Err }

func (j *Job) note(format string, args ...any) {
	if j.Notify != nil {
		j.Notify(fmt.Sprintf(format, args...))
	}
}

// Run runs the job to the end. It returns a *ResumeError when the run
// directory holds another run, an *eval.InputError for bad input, and a
// *StoppedError when an endpoint failed for good or ctx was cancelled:
// every completed call is saved, and running the job again resumes.
func (j *Job) Run(ctx context.Context) (out *Outcome, err error) {
	if j.Logger == nil {
		j.Logger = slog.New(slog.DiscardHandler)
	}
	if j.Progress == nil {
		j.Progress = &Progress{}
	}
	j.describe()
	if !j.ModelPrice.IsZero() || !j.JudgePrice.IsZero() {
		j.Manifest.Prices = &rundir.Prices{Model: j.ModelPrice.String(), Judge: j.JudgePrice.String()}
	}
	// One writer per run directory: a second one is refused before it
	// asks anything.
	existed := dirExists(j.Dir)
	lock, err := rundir.LockDir(j.Dir, cmp.Or(j.Manifest.ResumeCommand(), "psveval run"))
	if err != nil {
		return nil, err
	}
	defer func() {
		lock.Release()
		if err == nil {
			return
		}
		// A run refused before it wrote anything leaves the directory as
		// it found it: none, or without the lock file.
		if entries, _ := os.ReadDir(j.Dir); len(entries) == 1 && entries[0].Name() == rundir.LockFile && !existed {
			os.RemoveAll(j.Dir)
		} else if re, ok := errors.AsType[*ResumeError](err); ok && len(re.Diffs) == 0 {
			os.Remove(filepath.Join(j.Dir, rundir.LockFile)) // not a run directory
		}
	}()
	if j.Preflight {
		if err := j.preflight(ctx); err != nil {
			return nil, err
		}
	}
	fp, err := dataset.FingerprintOf(j.Dataset)
	if err != nil {
		return nil, err
	}
	if j.Preflight {
		if err := j.checkVision(fp); err != nil {
			return nil, err
		}
	}
	for _, s := range fp.Skipped {
		j.note("skipped %s (%s): %s", s.ID, s.Pos, s.Reason)
	}
	j.Manifest.Dataset = rundir.NewDatasetInfo(j.Dataset, fp)
	if j.Manifest.Tool.Version == "" {
		j.Manifest.Tool = rundir.Tool()
	}
	resumed, err := j.prepare()
	if err != nil {
		return nil, err
	}
	answers, judgments, err := j.openJournals()
	if err != nil {
		return nil, err
	}
	defer func() {
		// Closing syncs what SyncEvery left unsynced: its failure fails
		// the run, whose journals then cannot be trusted to hold it all.
		if cerr := errors.Join(answers.Close(), judgments.Close()); cerr != nil && err == nil {
			out, err = nil, cerr
		}
	}()
	verb := "starting"
	if resumed {
		verb = fmt.Sprintf("resuming (%s, %s recorded)", eval.Nouns(answers.Len(), "answer"), eval.Nouns(judgments.Len(), "judgment"))
	}
	j.note("%s %s: %s (fingerprint %s); columns: %s", verb, j.Dir, eval.Nouns(fp.Items, "item"), fp.SHA256[:12], j.Dataset.Mapping)
	r := &Runner{
		Model: j.Model, ModelID: j.Manifest.Model.ModelID(), Judges: j.Judges,
		Concurrency: j.Concurrency, JudgeConcurrency: j.JudgeConcurrency, ModelLimit: j.ModelLimit, JudgeLimit: j.JudgeLimit,
		Answers: answers, Judgments: judgments, Cache: j.Cache, Logger: j.Logger, Progress: j.Progress,
	}
	j.Progress.Total.Store(int64(fp.Items))
	// results.jsonl is written beside the run, from what the runner
	// hands over; a process killed meanwhile left its temporary file.
	if err := store.RemoveTemps(filepath.Join(j.Dir, rundir.ResultsFile)); err != nil {
		j.note("warning: %v", err)
	}
	if j.MaxCost > 0 {
		r.budget = newBudget(j.MaxCost, j.spentBy)
	}
	if !j.ModelPrice.IsZero() || !j.JudgePrice.IsZero() {
		f := j.Spent
		j.Progress.spent.Store(&f)
	}
	rw := j.startResults(answers, judgments, fp.Items)
	r.Done = rw.add
	if err := r.Run(ctx, j.Dataset.All()); err != nil {
		<-rw.finish(false) // gives up, leaving no results.jsonl
		if _, ok := errors.AsType[*eval.InputError](err); ok {
			return nil, err
		}
		if be, ok := errors.AsType[*BudgetError](err); ok {
			be.Spent = j.Spent() // with the requests that were in flight
			be.RunSoFar = j.journalCost(answers, judgments)
		}
		return nil, &StoppedError{Err: err, Answers: answers.Len(), Judgments: judgments.Len(), Interrupted: ctx.Err() != nil}
	}
	return j.finish(answers, judgments, fp, rw.finish(true))
}

func (j *Job) openJournals() (answers, judgments *store.Journal, err error) {
	answers, warn, err := store.OpenJournal(filepath.Join(j.Dir, rundir.AnswersFile))
	if err != nil {
		return nil, nil, err
	}
	if warn != "" {
		j.note("warning: %s", warn)
	}
	judgments, warn, err = store.OpenJournal(filepath.Join(j.Dir, rundir.JudgmentsFile))
	if err != nil {
		answers.Close()
		return nil, nil, err
	}
	answers.SyncEvery, judgments.SyncEvery = j.SyncEvery, j.SyncEvery
	if warn != "" {
		j.note("warning: %s", warn)
	}
	return answers, judgments, nil
}

// prepare creates the run directory, or checks that the one there holds a
// run with the same settings (rundir's one comparability rule). It
// reports whether it resumes.
func (j *Job) prepare() (bool, error) {
	m := j.Manifest
	now := time.Now().UTC().Format(time.RFC3339)
	old, err := rundir.ReadManifest(j.Dir)
	switch {
	case err == nil:
		if diffs := old.Diff(m); len(diffs) > 0 {
			return false, &ResumeError{Dir: j.Dir, Diffs: diffs}
		}
		m.Created = old.Created
		m.Model.ServedModel = old.Model.ServedModel
		m.History = old.History
		if len(m.History) == 0 { // written before histories were kept
			m.History = []rundir.Session{old.Session(old.Created)}
		}
		m.History = append(m.History, m.Session(now))
		for _, mv := range old.Moved(m) {
			j.note("note: resuming with another endpoint URL, %s (kept in manifest.json's history)", mv)
		}
		return true, rundir.WriteManifest(j.Dir, m)
	case !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	if entries, err := os.ReadDir(j.Dir); err == nil && slices.ContainsFunc(entries, func(e os.DirEntry) bool {
		return e.Name() != rundir.ServerLogFile && e.Name() != rundir.LockFile
	}) {
		return false, &ResumeError{Dir: j.Dir}
	}
	if err := os.MkdirAll(j.Dir, 0o755); err != nil {
		return false, err
	}
	if j.Seed != nil {
		if err := j.Seed(j.Dir); err != nil {
			return false, err
		}
	}
	m.Created = now
	m.History = []rundir.Session{m.Session(now)}
	return false, rundir.WriteManifest(j.Dir, m)
}

// A formatReporter is a judge that can say which reply format it ended
// with (judges.LLM under --judge-format auto).
type formatReporter interface{ FormatInUse() string }

// finish waits for results.jsonl (written beside the run by
// writeResults), then writes summary.json and the final manifest.
func (j *Job) finish(answers, judgments *store.Journal, fp dataset.Fingerprint, results <-chan resultsWritten) (*Outcome, error) {
	// The call counts read the journals through while the last results
	// are written.
	var calls map[string]eval.CallCounts
	var callsErr error
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		calls, callsErr = CountCalls(answers, judgments, j.Judges)
	}()
	defer func() { <-counted }()
	written := <-results
	if written.err != nil {
		return nil, written.err
	}
	tot := written.tot
	s, err := written.agg.Summary()
	if err != nil {
		return nil, err
	}
	<-counted
	if callsErr != nil {
		return nil, callsErr
	}
	s.Run = &stats.RunInfo{
		Calls:   calls,
		Retries: map[string]int64{"model": calls["model"].Retries, "judge": calls["judge"].Retries},
		Repairs: calls["judge"].Repairs, NSkipped: len(fp.Skipped), Skipped: fp.Skipped,
		ServedModels: map[string]string{"model": tot.ServedModel, "judge": tot.ServedJudge},
		Cached:       tot.Cached,
	}
	s.Cost = stats.CostOf(s.Usage, j.ModelPrice, j.JudgePrice)
	j.addTraffic(s.Run)
	if err := rundir.WriteSummary(j.Dir, s); err != nil {
		return nil, err
	}
	m := j.Manifest
	m.Finished = time.Now().UTC().Format(time.RFC3339)
	for i, spec := range j.Judges {
		if f, ok := spec.Judge.(formatReporter); ok && i < len(m.Judges) {
			m.Judges[i].FormatUsed = f.FormatInUse()
		}
	}
	if tot.ServedModel != "" {
		m.Model.ServedModel = tot.ServedModel
	}
	for i := range m.Judges {
		m.Judges[i].ServedModel = tot.ServedJudge
	}
	if err := rundir.WriteManifest(j.Dir, m); err != nil {
		return nil, err
	}
	return &Outcome{Summary: s, Manifest: m, Fingerprint: fp, Totals: tot}, nil
}

// Scoring describes rule for the manifest.
func Scoring(rule rubric.Rule) rundir.ScoringInfo {
	desc := map[rubric.Rule]string{
		rubric.RulePoints: "HealthBench: points of met criteria over the sum of positive points; met negative criteria subtract; clipped to [0, 1]",
		rubric.RuleAll:    "1 if every criterion passes (positive met, negative not met), else 0",
		rubric.RuleMean:   "the fraction of criteria that pass",
	}[rule]
	return rundir.ScoringInfo{
		Rule: string(rule), ItemScore: desc,
		SecondMetric: "all_met: the share of scored items whose every criterion passed",
		Aggregation:  "accuracy = mean item score over scored items, in percent; Avg micro weights items equally, Avg macro averages the question types; unscored and errored items are excluded and counted",
	}
}

// describe fills in what the caller left out of the manifest: the model
// (from an *LLMModel), the judges and the scoring rule.
func (j *Job) describe() {
	if j.Manifest == nil {
		j.Manifest = &rundir.Manifest{}
	}
	if j.Rule == "" {
		j.Rule = rubric.DefaultRule
	}
	m := j.Manifest
	if lm, ok := j.Model.(*LLMModel); ok && m.Model.Model == "" {
		m.Model = rundir.EndpointInfo{URL: lm.Client.Endpoint(), Model: lm.Model, Params: lm.Client.Params(),
			SystemPrompt: lm.System, QuestionSuffix: lm.Suffix}
	}
	if len(m.Judges) == 0 {
		for _, s := range j.Judges {
			m.Judges = append(m.Judges, rundir.JudgeInfo{Name: s.Name, Model: s.Name, Fingerprint: s.Fingerprint})
		}
	}
	if m.Scoring.Rule == "" {
		m.Scoring = Scoring(j.Rule)
	}
}
