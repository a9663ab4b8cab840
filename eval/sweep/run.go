package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
)

// RunOptions say how to run a sweep's points.
type RunOptions struct {
	// Job builds the job of point p, served at url, with judgeConc judge
	// requests in flight; its Dir must be the point's directory. It is
	// required.
	Job func(p Point, url string, judgeConc int) (*pipeline.Job, error)
	// Exec runs a point's job (nil: [pipeline.Job.Run]); a caller passes
	// its own to show each point's progress and table.
	Exec func(ctx context.Context, p Point, j *pipeline.Job) error
	// Parallel is how many points with a model URL run at once (at least
	// 1); points that psveval serves run one at a time.
	Parallel int
	// JudgeConcurrency is the judge requests in flight that parallel
	// points share.
	JudgeConcurrency int
	// ServeTimeout is how long a started server may take to list its
	// model; StopGrace, how long it gets between SIGTERM and SIGKILL.
	ServeTimeout, StopGrace time.Duration
	// Notify receives what a person should know: points skipped as
	// finished, servers started, orphans stopped. Nil discards it.
	Notify func(msg string)
}

// A ServeError is a point whose server could not be started or never
// served its model.
type ServeError struct{ Err error }

func (e *ServeError) Error() string { return e.Err.Error() }
func (e *ServeError) Unwrap() error { return e.Err }

// Run runs every point of s that has not finished into its run
// directory under the sweep directory out: the points with a model URL
// first, up to Parallel at once, sharing JudgeConcurrency; then the
// points psveval serves, one at a time, each server stopped whatever
// happens. It stops the servers a killed sweep left running first. It
// returns at the first point that fails; finished points are kept, and
// running it again resumes the others.
func Run(ctx context.Context, s *Spec, out string, opts RunOptions) error {
	if opts.Job == nil {
		return errors.New("sweep.Run: RunOptions.Job is nil: it builds each point's job")
	}
	note := func(format string, args ...any) {
		if opts.Notify != nil {
			opts.Notify(fmt.Sprintf(format, args...))
		}
	}
	lock, err := rundir.LockDir(out, "psveval sweep")
	if err != nil {
		return err
	}
	defer lock.Release()
	if opts.Exec == nil {
		opts.Exec = func(ctx context.Context, _ Point, j *pipeline.Job) error { _, err := j.Run(ctx); return err }
	}
	if n, err := CleanOrphans(out); err != nil {
		return err
	} else if n > 0 {
		note("note: stopped %s left running by an earlier sweep that was killed", eval.Nouns(n, "server"))
	}
	runPoint := func(ctx context.Context, p Point, url string, judgeConc int) error {
		j, err := opts.Job(p, url, judgeConc)
		if err != nil {
			return err
		}
		return opts.Exec(ctx, p, j)
	}
	var urlPoints, servePoints []Point
	for _, p := range s.Sorted() {
		switch {
		case rundir.Finished(s.Dir(out, p)):
			note("%s: finished, skipped", s.Label(p))
		case p.ModelURL != "":
			urlPoints = append(urlPoints, p)
		default:
			servePoints = append(servePoints, p)
		}
	}
	parallel := max(1, opts.Parallel)
	pl := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(parallel)
	share := max(1, opts.JudgeConcurrency/min(parallel, max(1, len(urlPoints))))
	for _, p := range urlPoints {
		pl.Go(func(ctx context.Context) error { return runPoint(ctx, p, p.ModelURL, share) })
	}
	if err := pl.Wait(); err != nil {
		return err
	}
	for _, p := range servePoints {
		err := s.serve(ctx, out, p, opts, note, func(url string) error { return runPoint(ctx, p, url, max(1, opts.JudgeConcurrency)) })
		if err != nil {
			return err
		}
	}
	return nil
}

// serve starts the point's server, waits until it lists the model, runs
// the point, and stops the server whatever happens.
func (s *Spec) serve(ctx context.Context, out string, p Point, opts RunOptions, note func(string, ...any), run func(url string) error) error {
	dir := s.Dir(out, p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	srv, err := Start(out, p.Serve, p.Model, filepath.Join(dir, rundir.ServerLogFile))
	if err != nil {
		return &ServeError{err}
	}
	defer func() {
		srv.Stop(opts.StopGrace)
		_ = srv.Forget(out)
	}()
	note("%s: started %s, waiting until it serves %q", s.Label(p), srv.URL, p.Model)
	if err := srv.Ready(ctx, p.Model, opts.ServeTimeout); err != nil {
		return &ServeError{fmt.Errorf("%s: %w", s.Label(p), err)}
	}
	return run(srv.URL)
}

// Diff lists how t differs from s (a sweep directory's spec, then the
// one given now), as "setting: recorded vs now", as a resume does.
func (s *Spec) Diff(t *Spec) []string {
	var out []string
	if s.Name != t.Name {
		out = append(out, fmt.Sprintf("name: %q (recorded) vs %q (now)", s.Name, t.Name))
	}
	if s.Axis != t.Axis {
		out = append(out, fmt.Sprintf("axis: %q (recorded) vs %q (now)", s.Axis, t.Axis))
	}
	byValue := func(ps []Point) map[float64]Point {
		m := map[float64]Point{}
		for _, p := range ps {
			m[p.Value] = p
		}
		return m
	}
	a, b := byValue(s.Points), byValue(t.Points)
	for _, p := range s.Sorted() {
		q, ok := b[p.Value]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: recorded, not in the spec now", s.Label(p)))
		case p != q:
			out = append(out, fmt.Sprintf("%s: %+v (recorded) vs %+v (now)", s.Label(p), p, q))
		}
	}
	for _, q := range t.Sorted() {
		if _, ok := a[q.Value]; !ok {
			out = append(out, fmt.Sprintf("%s: new in the spec", t.Label(q)))
		}
	}
	return out
}

// Same reports whether s and t are the same sweep: name, axis and points.
func (s *Spec) Same(t *Spec) bool {
	if s.Name != t.Name || s.Axis != t.Axis || len(s.Points) != len(t.Points) {
		return false
	}
	for i := range s.Points {
		if s.Points[i] != t.Points[i] {
			return false
		}
	}
	return true
}
