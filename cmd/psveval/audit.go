package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/reports"
)

// agreeFlags are the flags audit and agree share.
type agreeFlags struct {
	format string
	statFlags
}

func (a *agreeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.format, "format", "text", "output `format`: text or json")
	fs.IntVar(&a.resamples, "resamples", stats.DefaultResamples, "bootstrap resamples of items for κ's interval, 1 to 1000000")
	fs.Uint64Var(&a.seed, "seed", stats.DefaultSeed, "seed of the resampling, at least 1")
	fs.IntVar(&a.width, "width", 0, "fit text in `N` columns (default: the terminal's width, else 100)")
}

func (a *agreeFlags) validate() error {
	if err := a.statFlags.validate(); err != nil {
		return err
	}
	if a.format != "text" && a.format != "json" {
		return cmdline.Usagef("--format %q: want text or json", a.format)
	}
	return nil
}

func (a *agreeFlags) render(w io.Writer, ar *reports.AgreementReport) error {
	ar.Width = a.textWidth(w)
	return ar.Render(w, a.format)
}

// auditCmd measures a run's judge against human labels.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("audit", "--labels LABELS.jsonl [flags] RUN_DIR\n       psveval audit --sample N [--stratify type] [--seed S] -o SHEET.jsonl RUN_DIR", stderr)
	labelsFile := fs.String("labels", "", "human verdicts, one JSON object a line: {\"id\": ITEM, \"dim\": CRITERION, \"met\": true|false}")
	minKappa := fs.Float64("min-kappa", -1, "exit 1 when the judge's overall κ against the labels is below this (for example 0.6); off when negative")
	var af agreeFlags
	af.register(fs)
	var so sampleOptions
	so.register(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if err := af.validate(); err != nil {
		return err
	}
	if so.n != 0 {
		if *labelsFile != "" {
			return cmdline.Usagef("--sample draws a label sheet and --labels measures labels: give one of them")
		}
		return so.run(fs.Args(), af.seed, stderr)
	}
	if fs.NArg() != 1 || *labelsFile == "" {
		return cmdline.Usagef("audit takes --labels FILE and one run directory, or --sample N -o SHEET and one run directory")
	}
	if *minKappa > 1 {
		return cmdline.Usagef("--min-kappa %g: want at most 1", *minKappa)
	}
	dir := fs.Arg(0)
	run, err := rundir.OpenVerdicts(dir)
	if err != nil {
		return reportErr(err)
	}
	labels, err := rundir.ReadLabels(*labelsFile)
	if err != nil {
		return err
	}
	lm := rundir.MatchLabels(labels, run)
	if len(lm.Pairs) == 0 {
		return cmdline.Usagef("no label matches a verdict of %s: check the ids and criterion names against its results.jsonl", dir)
	}
	ar := &reports.AgreementReport{
		Title: fmt.Sprintf("judge of %s against %s (%s)", dir, *labelsFile, eval.Nouns(len(lm.Pairs), "labelled verdict")),
		Ref:   "label", Got: "judge", Rows: stats.Agree(lm.Pairs, af.resamples, af.seed), Notes: reports.LabelNotes(lm),
	}
	verdict, failed := reports.AuditVerdict(ar.Rows[len(ar.Rows)-1], *minKappa)
	if verdict != "" && af.format == "text" {
		fmt.Fprintln(stdout, verdict)
	}
	if err := af.render(stdout, ar); err != nil {
		return err
	}
	if failed {
		return errGateFailed
	}
	return nil
}

// agreeCmd measures two judgings of the same answers against each other.
func agreeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("agree", "[flags] RUN_A RUN_B", stderr)
	var af agreeFlags
	af.register(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if err := af.validate(); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return cmdline.Usagef("agree takes two run directories that judged the same answers: RUN_A RUN_B")
	}
	var vs [2]*rundir.Verdicts
	for i, d := range fs.Args() {
		v, err := rundir.OpenVerdicts(d)
		if err != nil {
			return reportErr(err)
		}
		vs[i] = v
	}
	a, b := fs.Arg(0), fs.Arg(1)
	vm := rundir.MatchVerdicts(vs[0], vs[1])
	if len(vm.Pairs) == 0 {
		return cmdline.Usagef("%s and %s share no judged criterion: give two judgings of the same answers (psveval judge)", a, b)
	}
	ar := &reports.AgreementReport{
		Title: fmt.Sprintf("%s (B) against %s (A): %s", b, a, eval.Nouns(len(vm.Pairs), "verdict pair")),
		Ref:   "A", Got: "B", Rows: stats.Agree(vm.Pairs, af.resamples, af.seed), Notes: reports.VerdictNotes(vm),
	}
	if err := af.render(stdout, ar); err != nil {
		return err
	}
	if af.format == "json" {
		return nil
	}
	// The effect on every column: the paired comparison of the two runs.
	runs, err := rundir.LoadRuns(fs.Args(), af.aggregate(true))
	if err != nil {
		return reportErr(err)
	}
	cf := defaultCompare(af.statFlags)
	cr := &reports.ComparisonReport{Base: "A", Cand: "B", C: cf.compare(runs[0], runs[1]), Width: ar.Width}
	fmt.Fprintln(stdout, "\neffect on every column (B minus A):")
	return cr.Render(stdout, "text")
}

// sampleOptions are audit --sample's flags: draw a label sheet.
type sampleOptions struct {
	n                 int
	stratify, out     string
	images, imageRoot string
}

func (o *sampleOptions) register(fs *flag.FlagSet) {
	fs.IntVar(&o.n, "sample", 0, "draw `N` of the run's scored items at random (seeded by --seed) and write a label sheet to -o: JSONL, and an HTML page beside it")
	fs.StringVar(&o.stratify, "stratify", "", "with --sample: draw within each value of this `field` (type, or a meta column such as source), each getting at least min(10, N/strata); the sheet records the weights")
	fs.StringVar(&o.out, "o", "", "with --sample: the sheet's `file` (JSONL); its HTML page is written beside it, with .html")
	fs.StringVar(&o.images, "images", reports.ImagesThumb, "with --sample: the page's images: none, thumb or full")
	fs.StringVar(&o.imageRoot, "image-root", "", "with --sample: `folder` the dataset's image paths are relative to, if it moved")
}

// run draws the sample of the one run directory in args and writes its
// sheet.
func (o *sampleOptions) run(args []string, seed uint64, stderr io.Writer) error {
	switch {
	case o.n < 1:
		return cmdline.Usagef("--sample %d: want at least 1 item", o.n)
	case len(args) != 1:
		return cmdline.Usagef("audit --sample takes one run directory")
	case o.out == "":
		return cmdline.Usagef("audit --sample writes a label sheet: give -o SHEET.jsonl")
	case filepath.Ext(o.out) == ".html":
		return cmdline.Usagef("-o %s: name the JSONL sheet (say, sheet.jsonl); its HTML page is written beside it", o.out)
	case !slices.Contains([]string{reports.ImagesNone, reports.ImagesThumb, reports.ImagesFull}, o.images):
		return cmdline.Usagef("--images %q: want none, thumb or full", o.images)
	}
	if err := cmdline.CheckOutFile("-o", o.out); err != nil {
		return err
	}
	sheet, page, err := reports.DrawLabelSheet(args[0], rundir.SampleOptions{N: o.n, Seed: seed, Stratify: o.stratify}, o.out, o.imageRoot, o.images)
	if err != nil {
		return reportErr(err)
	}
	for _, n := range sheet.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	fmt.Fprintf(stderr, "wrote %s and %s: %s; open the page, mark the items, Export, then psveval report --calibrate LABELS %s\n", o.out, page, sheet.Record.Design(), args[0])
	return nil
}
