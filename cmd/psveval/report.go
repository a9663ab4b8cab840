package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/sweep"
	"github.com/psveval/psveval/reports"
)

// statFlags are the statistics settings shared by report, compare and gate.
type statFlags struct {
	by        string
	resamples int
	seed      uint64
	width     int
}

func (s *statFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.by, "by", "", "group by this result `field` instead of question_type: modality, main_topic, source, or any meta column")
	fs.IntVar(&s.resamples, "resamples", stats.DefaultResamples, "bootstrap resamples, 1 to 1000000 (at least 2000 for the published intervals)")
	fs.Uint64Var(&s.seed, "seed", stats.DefaultSeed, "seed of every resampling, at least 1, so equal inputs give equal intervals")
	fs.IntVar(&s.width, "width", 0, "fit text tables in `N` columns, at least 40 (default: the terminal's width, else 100)")
}

// textWidth returns the width text tables written to w must fit in:
// --width, else the terminal's width when w is one, else
// reports.DefaultWidth.
func (s *statFlags) textWidth(w io.Writer) int {
	if s.width > 0 {
		return s.width
	}
	return termWidth(w)
}

// termWidth returns the terminal's width when w is a terminal, else
// reports.DefaultWidth.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return reports.DefaultWidth
}

// maxResamples bounds --resamples: each resample of each group keeps a
// float64, so 1e6 resamples of 10 groups take 80 MB.
const maxResamples = 1_000_000

// validate checks the values against their documented ranges.
func (s *statFlags) validate() error {
	if s.resamples < 1 || s.resamples > maxResamples {
		return usageErrorf("--resamples %d: want 1 to %d (2000 gives the published intervals)", s.resamples, maxResamples)
	}
	if s.seed == 0 {
		return usageErrorf("--seed 0: want a seed of at least 1")
	}
	if s.width != 0 && s.width < 40 {
		return usageErrorf("--width %d: want at least 40 columns", s.width)
	}
	return nil
}

func (s *statFlags) aggregate(ci bool) stats.AggregateOptions {
	o := stats.AggregateOptions{By: s.by, Resamples: s.resamples, Seed: s.seed}
	if !ci {
		o.Resamples = -1 // no intervals asked for: skip the bootstrap
	}
	return o
}

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "[flags] RUN_DIR...", stderr)
	format := fs.String("format", "text", "output `format`: text, markdown, latex, csv, json, or html (one offline page with every item; needs -o)")
	var hf htmlFlags
	hf.register(fs)
	ci := fs.Bool("ci", false, "add 95% bootstrap intervals")
	paper := fs.Bool("paper", false, "add the paper's three published rows and each run's difference")
	dims := fs.Bool("dims", false, "report pass rates per rubric dimension")
	var labels listFlag
	fs.Var(&labels, "label", "row `label` for the runs, in order (repeatable; default: each run's model)")
	var sf statFlags
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("report takes one or more run directories")
	}
	if len(labels) > fs.NArg() {
		return usageErrorf("%s for %s", eval.Nouns(len(labels), "label"), eval.Nouns(fs.NArg(), "run"))
	}
	if err := hf.validate(*format); err != nil {
		return err
	}
	var rep reports.Reporter
	if *format != "html" {
		var err error
		if rep, err = reports.ByName(*format); err != nil {
			return &usageError{err}
		}
	}
	dirs := fs.Args()
	// A sweep directory stands for its points, in value order.
	var sw *sweep.Spec
	if len(dirs) == 1 {
		s, ok, err := sweep.Read(dirs[0])
		if err != nil {
			return err
		}
		if ok {
			sw = s
			points := s.Sorted()
			dirs = nil
			for _, p := range points {
				dirs = append(dirs, s.Dir(fs.Arg(0), p))
				if len(labels) < len(points) {
					labels = append(labels, s.Label(p))
				}
			}
		}
	}
	loaded, err := rundir.LoadRuns(dirs, sf.aggregate(*ci))
	if err != nil {
		return reportErr(err)
	}
	runs := make([]reports.Run, len(loaded))
	for i, r := range loaded {
		runs[i] = reports.Run{Label: r.Label(), Dir: r.Dir, Summary: r.Summary, Manifest: r.Manifest}
		if i < len(labels) {
			runs[i].Label = labels[i]
		}
	}
	opts := reports.Options{CI: *ci, Paper: *paper, Dims: *dims, Width: sf.textWidth(stdout)}
	if *format == "html" {
		return hf.write(stderr, loaded, labels, opts)
	}
	return hf.output(stdout, func(w io.Writer) error {
		if err := rep.Report(w, runs, opts); err != nil || sw == nil || *format != "text" {
			return err
		}
		sr, err := loadSweep(fs.Arg(0), sw, sf)
		if err != nil {
			return err
		}
		sr.Width = opts.Width
		return sr.Analysis(w)
	})
}

// reportErr maps the errors of loading run directories to exit codes: a
// path that is not a run directory is a usage error (2); an unfinished or
// inconsistent run is operational (3).
func reportErr(err error) error {
	switch {
	case errors.Is(err, rundir.ErrNotRunDir):
		return &usageError{err}
	case errors.Is(err, rundir.ErrNoResults) || errors.Is(err, stats.ErrInconsistent):
		return &incompleteError{err}
	}
	return err
}

// An incompleteError is a run that cannot be reported yet: exit 3.
type incompleteError struct{ err error }

func (e *incompleteError) Error() string { return e.err.Error() }
func (e *incompleteError) Unwrap() error { return e.err }
