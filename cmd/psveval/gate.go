package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/reports"
)

func gateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gate", "--baseline DIR --candidate DIR [--max-drop 1.0] [--alpha 0.05] [--types avg|all|LIST]", stderr)
	var cf compareFlags
	cf.register(fs)
	baseline := fs.String("baseline", "", "baseline run `directory`")
	candidate := fs.String("candidate", "", "candidate run `directory`")
	types := fs.String("types", "avg", "gated columns: avg (Avg micro), all, or a list such as VP,DI,avg,macro")
	maxErr := fs.Float64("max-error-rate", 0.01, "exit 3 when either run's unscored plus errored items exceed this share")
	htmlFile := fs.String("html", "", "also write the comparison as an offline HTML page, both runs item by item, to this `file`")
	noiseDir := fs.String("noise", "", "add the judge's noise measured by psveval judge --repeat (its --out `DIR`) to every interval, so judge noise alone never fails the gate")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cf.validate(); err != nil {
		return err
	}
	if !(*maxErr >= 0 && *maxErr <= 1) {
		return usageErrorf("--max-error-rate %g: want a share between 0 and 1", *maxErr)
	}
	if *baseline == "" || *candidate == "" || fs.NArg() > 0 {
		return usageErrorf("gate needs --baseline DIR and --candidate DIR, and no other arguments")
	}
	if err := checkOutFile("--html", *htmlFile); err != nil {
		return err
	}
	policy := stats.GatePolicy{Compare: cf.options(), Types: *types, MaxErrorRate: *maxErr}
	var noise *stats.JudgeNoise
	if *noiseDir != "" {
		var err error
		if noise, err = rundir.ReadNoise(*noiseDir); err != nil {
			return usageErrorf("--noise %s: %v (give the --out directory of psveval judge --repeat K)", *noiseDir, err)
		}
		policy.JudgeSD = noise.SharedSD()
	}
	runs, err := rundir.LoadRuns([]string{*baseline, *candidate}, cf.aggregate(false))
	if err != nil {
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		return reportErr(err)
	}
	if same, why, err := rundir.Same(*baseline, *candidate); err == nil && same {
		err := usageErrorf("--baseline and --candidate are the same run (%s): gate a candidate against another run", why)
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		return err
	}
	base, cand := runs[0], runs[1]
	if err := cf.checkJudges(base, cand); err != nil {
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		return err
	}
	d, err := stats.Gate(gateRun(base), gateRun(cand), policy)
	cr := &reports.ComparisonReport{Notes: reports.ComparableNotes(base, cand), Width: cf.textWidth(stdout)}
	cr.Base, cr.Cand = reports.PairLabels(base, cand, "baseline")
	if err != nil {
		return gateError(stdout, err, cr, base, cand)
	}
	cr.C, cr.Gated = d.Comparison, d.Gated
	cr.Notes = append(cr.Notes, gateNotes(d, noise, *noiseDir, cf.minN)...)
	verdict := reports.GateVerdict(d)
	if err := printVerdict(stdout, verdict, cr, cf.width); err != nil {
		return err
	}
	if *htmlFile != "" {
		if err := reports.WriteHTMLFile(*htmlFile, runs, []string{cr.Base, cr.Cand}, reports.Options{CI: true, Title: verdict}, "", reports.ImagesThumb); err != nil {
			fmt.Fprintf(stderr, "warning: could not write %s: %v\n", *htmlFile, err)
		}
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendSummary(path, verdict, cr); err != nil {
			fmt.Fprintf(stderr, "warning: could not write $GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	if d.Failed() {
		return errGateFailed
	}
	return nil
}

// gateRun is the gate's view of a loaded run.
func gateRun(r *rundir.RunDir) stats.GateRun {
	g := stats.GateRun{Name: r.Dir, Summary: r.Summary, Scores: r.Scores}
	if r.Manifest != nil {
		g.Skipped = len(r.Manifest.Dataset.Skipped)
	}
	return g
}

// gateNotes are the footnotes a decision adds under the table.
func gateNotes(d *stats.GateDecision, noise *stats.JudgeNoise, noiseDir string, minN int) []string {
	var notes []string
	switch {
	case len(d.Widened) > 0:
		notes = append(notes, fmt.Sprintf("judge noise from %s (%d repeats): the shift it shares across items added to the intervals of %s (its noise independent per item is in the paired intervals already); p is the larger of the bootstrap's and the normal's with the widened spread", noiseDir, noise.Repeats, strings.Join(d.Widened, ", ")))
	case noise != nil:
		notes = append(notes, fmt.Sprintf("judge noise from %s (%d repeats): it shares no shift across items, so the paired intervals, which resample the items' own noise, hold it already: nothing added", noiseDir, noise.Repeats))
	}
	for _, r := range d.Small {
		notes = append(notes, fmt.Sprintf("warning: %s has %d paired items, fewer than --min-n %d: it is not gated", r.Group, r.N, minN))
	}
	return notes
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
			err, fingerprint(base), base.Dir, fingerprint(cand), cand.Dir)
	}
	fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
	if ge.Decision != nil {
		cr.C, cr.Gated = ge.Decision.Comparison, ge.Decision.Gated
		cr.Notes = append(cr.Notes, gateNotes(ge.Decision, nil, "", ge.Decision.Comparison.Thresholds.MinN)...)
		if err := cr.Render(stdout, "text"); err != nil {
			return err
		}
	}
	if ge.Usage() {
		return &usageError{err}
	}
	return &incompleteError{err}
}

// fingerprint returns a run's dataset fingerprint, shortened.
func fingerprint(r *rundir.RunDir) string {
	if r.Manifest == nil || r.Manifest.Dataset.Fingerprint == "" {
		return "(none recorded)"
	}
	return rundir.ShortHash(r.Manifest.Dataset.Fingerprint)
}

func appendSummary(path, verdict string, cr *reports.ComparisonReport) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "### psveval gate\n\n**%s**\n\n", strings.TrimPrefix(verdict, "gate: "))
	err = cr.Render(f, "markdown")
	return errors.Join(err, f.Close())
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
