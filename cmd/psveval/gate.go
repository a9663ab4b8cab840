package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/reports"
)

// gateOptions are psveval gate's flags.
type gateOptions struct {
	cf                                      compareFlags
	baseline, candidate, types, html, noise string
	maxErr                                  float64
}

func (o *gateOptions) register(fs *flag.FlagSet) {
	o.cf.register(fs)
	fs.StringVar(&o.baseline, "baseline", "", "baseline run `directory`")
	fs.StringVar(&o.candidate, "candidate", "", "candidate run `directory`")
	fs.StringVar(&o.types, "types", "avg", "gated columns: avg (Avg micro), all, or a list such as VP,DI,avg,macro")
	fs.Float64Var(&o.maxErr, "max-error-rate", 0.01, "exit 3 when either run's unscored plus errored items exceed this share")
	fs.StringVar(&o.html, "html", "", "also write the comparison as an offline HTML page, both runs item by item, to this `file`")
	fs.StringVar(&o.noise, "noise", "", "add the judge's noise measured by psveval judge --repeat (its --out `DIR`) to every interval, so judge noise alone never fails the gate")
}

// policy checks the flags and returns the gate's policy, with the judge
// noise it adds, if any.
func (o *gateOptions) policy(nargs int) (stats.GatePolicy, *stats.JudgeNoise, error) {
	var p stats.GatePolicy
	if err := o.cf.validate(); err != nil {
		return p, nil, err
	}
	switch {
	case !(o.maxErr >= 0 && o.maxErr <= 1):
		return p, nil, cmdline.Usagef("--max-error-rate %g: want a share between 0 and 1", o.maxErr)
	case o.baseline == "" || o.candidate == "" || nargs > 0:
		return p, nil, cmdline.Usagef("gate needs --baseline DIR and --candidate DIR, and no other arguments")
	}
	if err := cmdline.CheckOutFile("--html", o.html); err != nil {
		return p, nil, err
	}
	p = stats.GatePolicy{Compare: o.cf.options(), Types: o.types, MaxErrorRate: o.maxErr}
	if o.noise == "" {
		return p, nil, nil
	}
	noise, err := rundir.ReadNoise(o.noise)
	if err != nil {
		return p, nil, cmdline.Usagef("--noise %s: %v (give the --out directory of psveval judge --repeat K)", o.noise, err)
	}
	p.JudgeSD = noise.SharedSD()
	return p, noise, nil
}

func gateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("gate", "--baseline DIR --candidate DIR [--max-drop 1.0] [--alpha 0.05] [--types avg|all|LIST]", stderr)
	var o gateOptions
	o.register(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	policy, noise, err := o.policy(fs.NArg())
	if err != nil {
		return err
	}
	runs, err := o.load(stdout)
	if err != nil {
		return err
	}
	base, cand := runs[0], runs[1]
	d, err := stats.Gate(base.GateRun(), cand.GateRun(), policy)
	cr := &reports.ComparisonReport{Notes: reports.ComparableNotes(base, cand), Width: o.cf.textWidth(stdout)}
	cr.Base, cr.Cand = reports.PairLabels(base, cand, "baseline")
	if err != nil {
		return gateError(stdout, err, cr, base, cand)
	}
	cr.C, cr.Gated = d.Comparison, d.Gated
	cr.Notes = append(cr.Notes, reports.GateNotes(d, noise, o.noise, o.cf.minN)...)
	verdict := reports.GateVerdict(d)
	if err := printVerdict(stdout, verdict, cr, o.cf.width); err != nil {
		return err
	}
	if o.html != "" {
		if err := reports.WriteHTMLFile(o.html, runs, []string{cr.Base, cr.Cand}, reports.Options{CI: true, Title: verdict}, "", reports.ImagesThumb); err != nil {
			fmt.Fprintf(stderr, "warning: could not write %s: %v\n", o.html, err)
		}
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := reports.AppendStepSummary(path, verdict, cr); err != nil {
			fmt.Fprintf(stderr, "warning: could not write $GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	if d.Failed() {
		return errGateFailed
	}
	return nil
}

// load reads the two runs, refusing one run given twice or two runs
// judged by different served models; an error is printed as the gate's
// verdict line too.
func (o *gateOptions) load(stdout io.Writer) ([]*rundir.RunDir, error) {
	runs, err := rundir.LoadRuns([]string{o.baseline, o.candidate}, o.cf.aggregate(false))
	if err != nil {
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		return nil, reportErr(err)
	}
	if same, why, err := rundir.Same(o.baseline, o.candidate); err == nil && same {
		err := cmdline.Usagef("--baseline and --candidate are the same run (%s): gate a candidate against another run", why)
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		return nil, err
	}
	if err := o.cf.checkJudges(runs[0], runs[1]); err != nil {
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		return nil, err
	}
	return runs, nil
}

// gateError prints why the gate could not decide and maps it to an exit
// code: 2 for what was asked, 3 for the runs.
func gateError(stdout io.Writer, err error, cr *reports.ComparisonReport, base, cand *rundir.RunDir) error {
	ge, ok := errors.AsType[*stats.GateError](err)
	if !ok {
		return err
	}
	if ge.Kind == "unpaired" {
		err = fmt.Errorf("%w (dataset fingerprints %s in %s, %s in %s): gate compares two runs of the same dataset",
			err, base.ShortFingerprint(), base.Dir, cand.ShortFingerprint(), cand.Dir)
	}
	fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
	if ge.Decision != nil {
		cr.C, cr.Gated = ge.Decision.Comparison, ge.Decision.Gated
		cr.Notes = append(cr.Notes, reports.GateNotes(ge.Decision, nil, "", ge.Decision.Comparison.Thresholds.MinN)...)
		if err := cr.Render(stdout, "text"); err != nil {
			return err
		}
	}
	if ge.Usage() {
		return cmdline.Usage(err)
	}
	return &incompleteError{err}
}

// printVerdict prints the gate's verdict line, wrapped only when --width
// asks (else one line, for a log to grep), then the comparison.
func printVerdict(w io.Writer, verdict string, cr *reports.ComparisonReport, width int) error {
	if width > 0 {
		io.WriteString(w, reports.Wrap(verdict, width))
	} else {
		fmt.Fprintln(w, verdict)
	}
	return cr.Render(w, "text")
}
