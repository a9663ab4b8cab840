package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

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
		return usageErrorf("--format %q: want text or json", a.format)
	}
	return nil
}

func (a *agreeFlags) render(w io.Writer, ar *reports.AgreementReport) error {
	ar.Width = a.textWidth(w)
	if a.format == "json" {
		return ar.JSON(w)
	}
	return ar.Text(w)
}

// auditCmd measures a run's judge against human labels.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", "--labels LABELS.jsonl [flags] RUN_DIR", stderr)
	labelsFile := fs.String("labels", "", "human verdicts, one JSON object a line: {\"id\": ITEM, \"dim\": CRITERION, \"met\": true|false}")
	minKappa := fs.Float64("min-kappa", -1, "exit 1 when the judge's overall κ against the labels is below this (for example 0.6); off when negative")
	var af agreeFlags
	af.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := af.validate(); err != nil {
		return err
	}
	if fs.NArg() != 1 || *labelsFile == "" {
		return usageErrorf("audit takes --labels FILE and one run directory")
	}
	if *minKappa > 1 {
		return usageErrorf("--min-kappa %g: want at most 1", *minKappa)
	}
	dir := fs.Arg(0)
	if _, err := rundir.Open(dir); err != nil {
		return reportErr(err)
	}
	labels, err := rundir.ReadLabels(*labelsFile)
	if err != nil {
		return err
	}
	run, err := rundir.ReadVerdicts(dir)
	if err != nil {
		return reportErr(err)
	}
	var pairs []stats.Pair
	var noItem, noDim, unscorable []string
	for _, l := range labels {
		dims, ok := run.Met[l.ID]
		if !ok {
			noItem = append(noItem, l.ID)
			continue
		}
		met, ok := dims[l.Dim]
		switch {
		case !ok:
			noDim = append(noDim, l.ID+"/"+l.Dim)
		case met == nil:
			unscorable = append(unscorable, l.ID+"/"+l.Dim)
		default:
			pairs = append(pairs, stats.Pair{Item: l.ID, Dim: l.Dim, Ref: *l.Met, Got: *met})
		}
	}
	ar := &reports.AgreementReport{
		Title: fmt.Sprintf("judge of %s against %s (%s)", dir, *labelsFile, eval.Nouns(len(pairs), "labelled verdict")),
		Ref:   "label", Got: "judge", Rows: stats.Agree(pairs, af.resamples, af.seed),
	}
	for _, miss := range []struct {
		what string
		ids  []string
	}{{"labelled items the run does not have (or whose call errored)", noItem}, {"labelled criteria the item does not have", noDim}, {"labelled criteria the judge left unscorable", unscorable}} {
		if len(miss.ids) > 0 {
			ar.Notes = append(ar.Notes, fmt.Sprintf("%s, not counted: %s", eval.Nouns(len(miss.ids), "label")+" for "+miss.what, listSome(miss.ids, 20)))
		}
	}
	if len(pairs) == 0 {
		return usageErrorf("no label matches a verdict of %s: check the ids and criterion names against its results.jsonl", dir)
	}
	overall := ar.Rows[len(ar.Rows)-1]
	verdict := ""
	failed := false
	if *minKappa >= 0 {
		k := "undefined"
		if overall.Kappa != nil {
			k = stats.FormatFloat(*overall.Kappa, 2)
		}
		failed = overall.Kappa == nil || *overall.Kappa < *minKappa
		verdict = fmt.Sprintf("audit: PASS: κ %s ≥ --min-kappa %g", k, *minKappa)
		if failed {
			verdict = fmt.Sprintf("audit: FAIL: κ %s < --min-kappa %g: the judge disagrees with the labels more than allowed", k, *minKappa)
		}
		if af.format == "text" {
			fmt.Fprintln(stdout, verdict)
		}
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
	fs := newFlagSet("agree", "[flags] RUN_A RUN_B", stderr)
	var af agreeFlags
	af.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := af.validate(); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("agree takes two run directories that judged the same answers: RUN_A RUN_B")
	}
	var vs [2]*rundir.Verdicts
	for i, d := range fs.Args() {
		if _, err := rundir.Open(d); err != nil {
			return reportErr(err)
		}
		v, err := rundir.ReadVerdicts(d)
		if err != nil {
			return reportErr(err)
		}
		vs[i] = v
	}
	a, b := fs.Arg(0), fs.Arg(1)
	var pairs []stats.Pair
	var only, unscorable []string
	disagree := map[string][]string{}
	var order []string
	for _, id := range vs[0].Items {
		mb, ok := vs[1].Met[id]
		if !ok {
			only = append(only, id)
			continue
		}
		ma := vs[0].Met[id]
		dims := make([]string, 0, len(ma))
		for d := range ma {
			dims = append(dims, d)
		}
		slices.Sort(dims)
		for _, d := range dims {
			x, y := ma[d], mb[d]
			if x == nil || y == nil {
				unscorable = append(unscorable, id+"/"+d)
				continue
			}
			pairs = append(pairs, stats.Pair{Item: id, Dim: d, Ref: *x, Got: *y})
			if *x != *y {
				if len(disagree[id]) == 0 {
					order = append(order, id)
				}
				disagree[id] = append(disagree[id], d)
			}
		}
	}
	if len(pairs) == 0 {
		return usageErrorf("%s and %s share no judged criterion: give two judgings of the same answers (psveval judge)", a, b)
	}
	ar := &reports.AgreementReport{
		Title: fmt.Sprintf("%s (B) against %s (A): %s", b, a, eval.Nouns(len(pairs), "verdict pair")),
		Ref:   "A", Got: "B", Rows: stats.Agree(pairs, af.resamples, af.seed),
	}
	if len(only) > 0 {
		ar.Notes = append(ar.Notes, fmt.Sprintf("%s judged in A only, not counted: %s", eval.Nouns(len(only), "item"), listSome(only, 20)))
	}
	if len(unscorable) > 0 {
		ar.Notes = append(ar.Notes, fmt.Sprintf("%s unscorable in A or B, not counted: %s", eval.Nouns(len(unscorable), "criterion"), listSome(unscorable, 20)))
	}
	var lines []string
	for _, id := range order {
		lines = append(lines, id+" ("+strings.Join(disagree[id], ", ")+")")
	}
	ar.Notes = append(ar.Notes, fmt.Sprintf("%s where A and B disagree: %s", eval.Nouns(len(order), "item"), listSome(lines, 40)))
	if err := af.render(stdout, ar); err != nil {
		return err
	}
	if af.format == "json" {
		return nil
	}
	// The effect on every column: the paired comparison of the two runs.
	runs, err := loadRuns(fs.Args(), af.aggregate(true))
	if err != nil {
		return reportErr(err)
	}
	cf := defaultCompare(af.statFlags)
	cr := &reports.ComparisonReport{Base: "A", Cand: "B", C: cf.compare(runs[0], runs[1]), Width: ar.Width}
	fmt.Fprintln(stdout, "\neffect on every column (B minus A):")
	return cr.Text(stdout)
}

// listSome lists up to n strings, then how many more there are.
func listSome(ss []string, n int) string {
	if len(ss) <= n {
		return strings.Join(ss, ", ")
	}
	return strings.Join(ss[:n], ", ") + fmt.Sprintf(" and %d more", len(ss)-n)
}
