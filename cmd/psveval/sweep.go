package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sourcegraph/conc/pool"
	"go.yaml.in/yaml/v3"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/eval/sweep"
	"github.com/psveval/psveval/reports"
)

// sweepCmd runs every point of a sweep into its own run directory, then
// reports the curve.
func sweepCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep", "--spec SWEEP.yaml --out DIR [flags]", stderr)
	specFile := fs.String("spec", "", "the sweep `file` (YAML): name, axis, run (a run config file), points")
	out := fs.String("out", "", "the sweep `directory`: one run directory per point, the report and the plot")
	parallel := fs.Int("parallel", 1, "points with a model-url run at once (points with serve run one at a time); the run's judge-concurrency is shared among them")
	serveTimeout := fs.Duration("serve-timeout", 20*time.Minute, "how long a started server may take to list its model")
	grace := fs.Duration("stop-grace", 10*time.Second, "how long a started server gets between SIGTERM and SIGKILL")
	var sf statFlags
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	switch {
	case *specFile == "" || *out == "" || fs.NArg() > 0:
		return usageErrorf("sweep takes --spec FILE and --out DIR")
	case *parallel < 1:
		return usageErrorf("--parallel %d: want at least 1", *parallel)
	case *serveTimeout <= 0 || *grace <= 0:
		return usageErrorf("--serve-timeout and --stop-grace: want positive durations")
	}
	s, err := sweep.Load(*specFile)
	if err != nil {
		return err
	}
	if old, ok, err := sweep.Read(*out); err != nil {
		return err
	} else if ok && !sameSpec(old, s) {
		return usageErrorf("%s holds another sweep (%s): use another --out", *out, old.Name)
	}
	if err := s.Write(*out); err != nil {
		return err
	}
	if n, err := sweep.CleanOrphans(*out); err != nil {
		return err
	} else if n > 0 {
		fmt.Fprintf(stderr, "note: stopped %s left running by an earlier sweep that was killed\n", eval.Nouns(n, "server"))
	}
	jc, err := judgeConcurrency(s.Run)
	if err != nil {
		return err
	}
	resume := "psveval sweep " + rundir.ShellJoin(args)
	points := s.Sorted()
	runPoint := func(ctx context.Context, p sweep.Point, url string, judgeConc int) error {
		dir := s.Dir(*out, p)
		runArgs := []string{"--config", s.Run, "--model", p.Model, "--model-url", url, "--out", dir, "--progress", "none",
			"--judge-concurrency", fmt.Sprint(judgeConc)}
		var buf bytes.Buffer
		err := runTitled(ctx, runArgs, io.Discard, &buf, "")
		fmt.Fprint(stderr, prefixLines(s.Label(p)+": ", buf.String()))
		return err
	}
	var urlPoints, servePoints []sweep.Point
	for _, p := range points {
		if finished(s.Dir(*out, p)) {
			fmt.Fprintf(stderr, "%s: finished, skipped\n", s.Label(p))
			continue
		}
		if p.ModelURL != "" {
			urlPoints = append(urlPoints, p)
		} else {
			servePoints = append(servePoints, p)
		}
	}
	pl := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(*parallel)
	share := max(1, jc/min(*parallel, max(1, len(urlPoints))))
	for _, p := range urlPoints {
		pl.Go(func(ctx context.Context) error { return runPoint(ctx, p, p.ModelURL, share) })
	}
	err = pl.Wait()
	for _, p := range servePoints {
		if err != nil {
			break
		}
		err = servePoint(ctx, s, *out, p, *serveTimeout, *grace, stderr, func(url string) error { return runPoint(ctx, p, url, jc) })
	}
	if err != nil {
		fmt.Fprintf(stderr, "sweep stopped; finished points are kept, unfinished ones resume with: %s\n", resume)
		return err
	}
	sr, err := loadSweep(*out, s, sf)
	if err != nil {
		return err
	}
	sr.Width = sf.textWidth(stdout)
	if err := sr.Text(stdout); err != nil {
		return err
	}
	if err := store.WriteJSON(filepath.Join(*out, "analysis.json"), struct {
		Axis   string              `json:"axis"`
		Values []float64           `json:"values"`
		Best   []stats.BestColumn  `json:"best"`
		Steps  []*stats.Comparison `json:"steps"`
	}{s.Axis, sr.Values, sr.Best, sr.Steps}); err != nil {
		return err
	}
	for _, f := range []string{"svg", "png"} {
		path := filepath.Join(*out, "sweep."+f)
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
	fmt.Fprintf(stderr, "the judgment cache saved %s across the points\nwrote %s/sweep.svg and sweep.png\n", eval.Nouns(cached, "judgment"), *out)
	return nil
}

// servePoint starts the point's server, waits until it lists the model,
// runs the point, and stops the server whatever happens.
func servePoint(ctx context.Context, s *sweep.Spec, out string, p sweep.Point, timeout, grace time.Duration, stderr io.Writer, run func(url string) error) error {
	dir := s.Dir(out, p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	srv, err := sweep.Start(out, p.Serve, p.Model, filepath.Join(dir, rundir.ServerLogFile))
	if err != nil {
		return &incompleteError{err}
	}
	defer func() {
		srv.Stop(grace)
		_ = srv.Forget(out)
	}()
	fmt.Fprintf(stderr, "%s: started %s, waiting until it serves %q\n", s.Label(p), srv.URL, p.Model)
	if err := srv.Ready(ctx, p.Model, timeout); err != nil {
		return &incompleteError{fmt.Errorf("%s: %w", s.Label(p), err)}
	}
	return run(srv.URL)
}

// loadSweep loads a sweep's finished points, refusing points that
// evaluated different items, and analyses them.
func loadSweep(dir string, s *sweep.Spec, sf statFlags) (*reports.SweepReport, error) {
	points := s.Sorted()
	sr := &reports.SweepReport{Name: s.Name, Axis: s.Axis}
	var dirs []string
	for _, p := range points {
		dirs = append(dirs, s.Dir(dir, p))
		sr.Values = append(sr.Values, p.Value)
	}
	runs, err := loadRuns(dirs, sf.aggregate(true))
	if err != nil {
		return nil, reportErr(err)
	}
	var scores []map[string]stats.Scored
	for i, r := range runs {
		if fp, fp0 := r.Manifest.Dataset.Fingerprint, runs[0].Manifest.Dataset.Fingerprint; fp != fp0 {
			return nil, usageErrorf("the points evaluated different items: %s has dataset fingerprint %s, %s has %s", s.Label(points[0]), rundir.ShortHash(fp0), s.Label(points[i]), rundir.ShortHash(fp))
		}
		sr.Runs = append(sr.Runs, reports.Run{Label: s.Label(points[i]), Dir: r.Dir, Summary: r.Summary, Manifest: r.Manifest})
		scores = append(scores, r.Scores)
	}
	sr.Best = stats.BestOf(sr.Values, scores, sf.resamples, sf.seed)
	cf := defaultCompare(sf)
	for i := 1; i < len(runs); i++ {
		sr.Steps = append(sr.Steps, cf.compare(runs[i-1], runs[i]))
	}
	return sr, nil
}

// finished reports whether dir holds a finished run.
func finished(dir string) bool {
	m, err := rundir.Open(dir)
	if err != nil || m.Finished == "" {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, rundir.SummaryFile))
	return err == nil
}

// judgeConcurrency reads the judge concurrency a run config file sets
// (default 32), for the points to share.
func judgeConcurrency(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, usageErrorf("the sweep's run file: %v", err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return 0, usageErrorf("the sweep's run file %s: %v", path, err)
	}
	if v, ok := cfg["judge-concurrency"].(int); ok && v > 0 {
		return v, nil
	}
	return 32, nil
}

func sameSpec(a, b *sweep.Spec) bool {
	if a.Name != b.Name || a.Axis != b.Axis || len(a.Points) != len(b.Points) {
		return false
	}
	for i := range a.Points {
		if a.Points[i] != b.Points[i] {
			return false
		}
	}
	return true
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
