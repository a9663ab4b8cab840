package main

import (
	"errors"
	"log/slog"
	"sync"

	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/pipeline"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/eval/sweep"
	"github.com/psveval/psveval/reports"
)

// sweepCmd runs every point of a sweep into its own run directory, then
// reports the curve.
func sweepCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("sweep", "--spec SWEEP.yaml --out DIR [flags]", stderr)
	specFile := fs.String("spec", "", "the sweep `file` (YAML): name, axis, run (a run config file), points")
	out := fs.String("out", "", "the sweep `directory`: one run directory per point, the report and the plot")
	opts := sweep.RunOptions{}
	fs.IntVar(&opts.Parallel, "parallel", 1, "points with a model-url run at once (points with serve run one at a time); the run's judge-concurrency is shared among them")
	fs.DurationVar(&opts.ServeTimeout, "serve-timeout", 20*time.Minute, "how long a started server may take to list its model")
	fs.DurationVar(&opts.StopGrace, "stop-grace", 10*time.Second, "how long a started server gets between SIGTERM and SIGKILL")
	var sf statFlags
	sf.register(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	switch {
	case *specFile == "" || *out == "" || fs.NArg() > 0:
		return cmdline.Usagef("sweep takes --spec FILE and --out DIR")
	case opts.Parallel < 1:
		return cmdline.Usagef("--parallel %d: want at least 1", opts.Parallel)
	case opts.ServeTimeout <= 0 || opts.StopGrace <= 0:
		return cmdline.Usagef("--serve-timeout and --stop-grace: want positive durations")
	}
	if err := cmdline.CheckOutDir("--out", *out); err != nil {
		return err
	}
	s, err := sweep.Load(*specFile)
	if err != nil {
		return err
	}
	if old, ok, err := sweep.Read(*out); err != nil {
		return err
	} else if ok && !old.Same(s) {
		return cmdline.Usagef("%s holds another sweep (%s); the spec differs:\n  %s\nuse another --out, or the spec it was started with", *out, old.Name, strings.Join(old.Diff(s), "\n  "))
	}
	if err := s.Write(*out); err != nil {
		return err
	}
	if err := runSweep(ctx, s, *out, opts, stderr); err != nil {
		fmt.Fprintf(stderr, "sweep stopped; finished points are kept, unfinished ones resume with: %s\n", "psveval sweep "+rundir.ShellJoin(args))
		if _, ok := errors.AsType[*sweep.ServeError](err); ok {
			return &incompleteError{err}
		}
		return err
	}
	return sweepReport(stdout, stderr, s, *out, sf)
}

// runSweep runs the sweep's points, each a job built from the sweep's
// run file with the point's model and URL.
func runSweep(ctx context.Context, s *sweep.Spec, out string, opts sweep.RunOptions, stderr io.Writer) error {
	base, err := pointOptions(s.Run)
	if err != nil {
		return err
	}
	opts.JudgeConcurrency = base.ef.judgeConc
	var mu sync.Mutex // points running at once write whole lines
	opts.Notify = func(msg string) { mu.Lock(); fmt.Fprintln(stderr, msg); mu.Unlock() }
	pointOut := func(p sweep.Point) io.Writer { return &prefixWriter{mu: &mu, w: stderr, prefix: s.Label(p) + ": "} }
	opts.Job = func(p sweep.Point, url string, judgeConc int) (*pipeline.Job, error) {
		o, err := pointOptions(s.Run)
		if err != nil {
			return nil, err
		}
		o.ef.model, o.ef.modelURLs, o.ef.judgeConc = p.Model, cmdline.List{url}, judgeConc
		o.rf.out, o.rf.progress = s.Dir(out, p), "none"
		return o.job(slog.New(slog.DiscardHandler), pointOut(p))
	}
	opts.Exec = func(ctx context.Context, p sweep.Point, pj *pipeline.Job) error {
		_, err := execute(ctx, io.Discard, pointOut(p), pj, display{progress: "none", maxErrorRate: base.rf.maxErrorRate, resume: "psveval sweep"})
		return err
	}
	return sweep.Run(ctx, s, out, opts)
}

// pointOptions reads a sweep's run file into run options, as psveval run
// --config FILE would.
func pointOptions(runFile string) (*runOptions, error) {
	fs := cmdline.NewFlagSet("run", runSynopsis, io.Discard)
	var o runOptions
	o.register(fs)
	if err := cmdline.Parse(fs, []string{"--config", runFile}); err != nil {
		return nil, err
	}
	return &o, nil
}

// sweepReport prints the curve and writes the analysis and the plots.
func sweepReport(stdout, stderr io.Writer, s *sweep.Spec, out string, sf statFlags) error {
	sr, a, err := loadSweep(out, s, sf)
	if err != nil {
		return err
	}
	sr.Width = sf.textWidth(stdout)
	if err := sr.Render(stdout, "text"); err != nil {
		return err
	}
	if err := rundir.WriteAnalysis(out, a); err != nil {
		return err
	}
	for _, f := range []string{"svg", "png"} {
		path := filepath.Join(out, rundir.SweepPlotName+"."+f)
		if err := store.WriteFileFunc(path, func(w io.Writer) error { return sr.SweepPlot(w, f) }); err != nil {
			return err
		}
	}
	cached := 0
	for _, r := range sr.Runs {
		if run := rundir.ReadRunInfo(r.Dir); run != nil {
			cached += run.Cached
		}
	}
	fmt.Fprintf(stderr, "the judgment cache saved %s across the points\nwrote %s/%s.svg and %s.png\n", eval.Nouns(cached, "judgment"), out, rundir.SweepPlotName, rundir.SweepPlotName)
	return nil
}

// loadSweep analyses a sweep's finished points into its report.
func loadSweep(dir string, s *sweep.Spec, sf statFlags) (*reports.SweepReport, *sweep.Analysis, error) {
	cf := defaultCompare(sf)
	a, err := sweep.Analyse(dir, s, sf.aggregate(true), cf.options())
	if _, ok := errors.AsType[*sweep.MismatchError](err); ok {
		return nil, nil, cmdline.Usage(err)
	} else if err != nil {
		return nil, nil, reportErr(err)
	}
	sr := &reports.SweepReport{Name: s.Name, Axis: s.Axis, Values: a.Values, Best: a.Best, Steps: a.Steps}
	for i, r := range a.Runs {
		sr.Runs = append(sr.Runs, reports.Run{Label: a.Labels[i], Dir: r.Dir, Summary: r.Summary, Manifest: r.Manifest})
	}
	return sr, a, nil
}

// A prefixWriter writes each line written to it to w behind prefix,
// holding mu while it writes.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if _, err := io.WriteString(pw.w, prefixLines(pw.prefix, string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// prefixLines puts prefix before every line of s.
func prefixLines(prefix, s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for l := range strings.Lines(s) {
		b.WriteString(prefix + l)
	}
	return b.String()
}
