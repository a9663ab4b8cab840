package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/psveval/psveval/cmd/internal/cmdline"
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
// --width, else the terminal's (see cmdline.Width).
func (s *statFlags) textWidth(w io.Writer) int { return cmdline.TextWidth(s.width, w) }

// maxResamples bounds --resamples: each resample of each group keeps a
// float64, so 1e6 resamples of 10 groups take 80 MB.
const maxResamples = 1_000_000

// validate checks the values against their documented ranges.
func (s *statFlags) validate() error {
	if s.resamples < 1 || s.resamples > maxResamples {
		return cmdline.Usagef("--resamples %d: want 1 to %d (2000 gives the published intervals)", s.resamples, maxResamples)
	}
	if s.seed == 0 {
		return cmdline.Usagef("--seed 0: want a seed of at least 1")
	}
	if s.width != 0 && s.width < 40 {
		return cmdline.Usagef("--width %d: want at least 40 columns", s.width)
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
	fs := cmdline.NewFlagSet("report", "[flags] RUN_DIR...", stderr)
	var o reportOptions
	o.register(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if err := o.validate(fs.Args()); err != nil {
		return err
	}
	dirs, labels, sw, err := sweep.Expand(fs.Args())
	if err != nil {
		return err
	}
	if len(o.labels) > 0 { // given labels name the first rows
		labels = append(o.labels, labels[min(len(o.labels), len(labels)):]...)
	}
	loaded, err := rundir.LoadRuns(dirs, o.sf.aggregate(o.ci))
	if err != nil {
		return reportErr(err)
	}
	if o.calibrate != "" {
		ls, err := rundir.ReadLabelSet(o.calibrate)
		if err != nil {
			return cmdline.Usage(err)
		}
		if err := rundir.CalibrateRuns(loaded, ls, rundir.CalibrateOptions{By: o.sf.by, MinLabelled: o.minLabelled}); err != nil {
			return cmdline.Usage(err)
		}
	}
	opts := reports.Options{CI: o.ci, Paper: o.paper, Dims: o.dims, Width: o.sf.textWidth(stdout)}
	if o.format == "html" {
		return o.hf.write(stderr, loaded, labels, opts)
	}
	runs := make([]reports.Run, len(loaded))
	for i, r := range loaded {
		runs[i] = reports.Run{Label: r.Label(), Dir: r.Dir, Summary: r.Summary, Manifest: r.Manifest}
		if i < len(labels) {
			runs[i].Label = labels[i]
		}
	}
	var rep reports.Report = &reports.TableReport{Runs: runs, Options: opts}
	if sw != nil && o.format != "latex" && o.format != "csv" {
		sr, _, err := loadSweep(fs.Arg(0), sw, o.sf)
		if err != nil {
			return err
		}
		sr.Runs, sr.Width, sr.TableOptions = runs, opts.Width, &opts
		rep = sr
	}
	return o.hf.output(stdout, func(w io.Writer) error { return rep.Render(w, o.format) })
}

// reportOptions are psveval report's flags.
type reportOptions struct {
	format          string
	hf              htmlFlags
	ci, paper, dims bool
	labels          cmdline.List
	sf              statFlags
	calibrate       string
	minLabelled     int
}

func (o *reportOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.format, "format", "text", "output `format`: text, markdown, latex, csv, json, or html (one offline page with every item; needs -o)")
	o.hf.register(fs)
	fs.BoolVar(&o.ci, "ci", false, "add 95% intervals, in every format (a sweep directory too); psveval run, merge and sweep print theirs with intervals, as report.md has them")
	fs.BoolVar(&o.paper, "paper", false, "add the paper's three published rows and each run's difference")
	fs.BoolVar(&o.dims, "dims", false, "report pass rates per rubric dimension")
	fs.Var(&o.labels, "label", "row `label` for the runs, in order (repeatable; default: each run's model)")
	fs.StringVar(&o.calibrate, "calibrate", "", "add judge-corrected accuracy (PPI++) from human labels of a random sample: a labels `file` as audit reads, best a sheet from audit --sample")
	fs.IntVar(&o.minLabelled, "min-labelled", stats.DefaultMinLabelled, "with --calibrate: the fewest labelled items a column is corrected from; columns with fewer are reported raw")
	o.sf.register(fs)
}

// validate checks the flags against the run directories given, and
// picks the renderer.
func (o *reportOptions) validate(dirs []string) error {
	if err := o.sf.validate(); err != nil {
		return err
	}
	switch {
	case len(dirs) == 0:
		return cmdline.Usagef("report takes one or more run directories")
	case len(o.labels) > len(dirs):
		return cmdline.Usagef("%s for %s", eval.Nouns(len(o.labels), "label"), eval.Nouns(len(dirs), "run"))
	case o.minLabelled < 2:
		return cmdline.Usagef("--min-labelled %d: want at least 2", o.minLabelled)
	case o.calibrate != "" && o.dims:
		return cmdline.Usagef("--calibrate corrects accuracy, not --dims' pass rates: give one of them")
	}
	if err := o.hf.validate(o.format); err != nil {
		return err
	}
	if _, err := reports.ByName(o.format); err != nil && o.format != "html" {
		return cmdline.Usagef("--format %q: want %s or html", o.format, strings.Join(reports.Formats, ", "))
	}
	return nil
}

// reportErr maps the errors of loading run directories to exit codes: a
// path that is not a run directory is a usage error (2); an unfinished or
// inconsistent run is operational (3).
func reportErr(err error) error {
	switch {
	case errors.Is(err, rundir.ErrNotRunDir):
		return cmdline.Usage(err)
	case errors.Is(err, rundir.ErrNoResults) || errors.Is(err, stats.ErrInconsistent):
		return &incompleteError{err}
	}
	return err
}

// An incompleteError is a run that cannot be reported yet: exit 3.
type incompleteError struct{ err error }

func (e *incompleteError) Error() string { return e.err.Error() }
func (e *incompleteError) Unwrap() error { return e.err }
