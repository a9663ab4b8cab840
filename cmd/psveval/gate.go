package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/reports"
)

// gatedGroups turns --types into a predicate over comparison rows: "avg"
// (Avg micro, the default), "all" (every group and both averages), or a
// list of groups by name or abbreviation, with avg and macro for the
// averages.
func gatedGroups(spec string) (func(string) bool, error) {
	spec = strings.TrimSpace(spec)
	switch strings.ToLower(spec) {
	case "", "avg":
		return func(g string) bool { return g == stats.AvgMicro }, nil
	case "all":
		return nil, nil
	}
	want := map[string]bool{}
	for part := range strings.SplitSeq(spec, ",") {
		p := strings.TrimSpace(part)
		switch strings.ToLower(p) {
		case "avg", "micro":
			want[stats.AvgMicro] = true
			continue
		case "macro":
			want[stats.AvgMacro] = true
			continue
		}
		name := eval.NormalizeType(p)
		for full, abbr := range eval.QuestionTypeAbbrev {
			if strings.EqualFold(abbr, p) {
				name = full
			}
		}
		want[name] = true
	}
	return func(g string) bool { return want[g] }, nil
}

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
	gated, err := gatedGroups(*types)
	if err != nil {
		return &usageError{err}
	}
	runs, err := loadRuns([]string{*baseline, *candidate}, cf.aggregate(false))
	if err != nil {
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		return reportErr(err)
	}
	base, cand := runs[0], runs[1]
	for _, r := range runs {
		s := r.Summary
		if bad := s.NUnscored + s.NErrors; s.NItems == 0 || float64(bad) > *maxErr*float64(s.NItems) {
			err := fmt.Errorf("%s: %d of %s unscored or errored, above --max-error-rate %g: resume or re-judge it before gating", r.Dir, bad, eval.Nouns(s.NItems, "item"), *maxErr)
			fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
			return &incompleteError{err}
		}
	}
	c := cf.compare(base, cand)
	if c.Paired == 0 {
		err := usageErrorf("the runs share no scored items (dataset fingerprints %s in %s, %s in %s): gate compares two runs of the same dataset",
			fingerprint(base), base.Dir, fingerprint(cand), cand.Dir)
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		return err
	}
	cr := &reports.ComparisonReport{Base: base.Label(), Cand: cand.Label(), C: c, Gated: gated, Notes: comparableNotes(base, cand), Width: cf.textWidth(stdout)}
	cr.Base, cr.Cand = pairLabels(base, cand, "baseline")
	if *noiseDir != "" {
		var noise stats.JudgeNoise
		b, err := os.ReadFile(filepath.Join(*noiseDir, "noise.json"))
		if err == nil {
			err = json.Unmarshal(b, &noise)
		}
		if err != nil {
			return usageErrorf("--noise %s: %v (give the --out directory of psveval judge --repeat K)", *noiseDir, err)
		}
		sd := map[string]float64{}
		for _, col := range noise.Columns {
			sd[col.Group] = col.JudgeSD
		}
		widened := c.AddJudgeNoise(sd)
		cr.Notes = append(cr.Notes, fmt.Sprintf("judge noise from %s (%d repeats) added to the intervals of %s; their p-values are from the normal with the widened spread", *noiseDir, noise.Repeats, strings.Join(widened, ", ")))
	}
	if gated != nil && !slices.ContainsFunc(c.Rows, func(r stats.CompareRow) bool { return gated(r.Group) }) {
		return usageErrorf("--types %q matches no column of this comparison (columns: %s)", *types, strings.Join(rowGroups(c), ", "))
	}
	var small []string
	checked := 0
	for _, r := range c.Rows {
		if gated != nil && !gated(r.Group) {
			continue
		}
		if r.Small {
			small = append(small, fmt.Sprintf("%s (%d)", r.Group, r.N))
			cr.Notes = append(cr.Notes, fmt.Sprintf("warning: %s has %d paired items, fewer than --min-n %d: it is not gated", r.Group, r.N, cf.minN))
		} else {
			checked++
		}
	}
	if checked == 0 {
		err := &incompleteError{fmt.Errorf("nothing gated: every gated column has fewer than --min-n %d paired items: %s", cf.minN, strings.Join(small, ", "))}
		fmt.Fprintf(stdout, "gate: ERROR: %v\n", err)
		if err := cr.Text(stdout); err != nil {
			return err
		}
		return err
	}
	regressed := c.Regressions(gated)
	verdict := reports.GateVerdict(regressed, c, gated, cf.maxDrop, cf.alpha)
	fmt.Fprintln(stdout, verdict)
	if err := cr.Text(stdout); err != nil {
		return err
	}
	if *htmlFile != "" {
		if err := writeHTML(*htmlFile, runs, []string{cr.Base, cr.Cand}, reports.Options{CI: true, Title: verdict}, "", reports.ImagesThumb); err != nil {
			fmt.Fprintf(stderr, "warning: could not write %s: %v\n", *htmlFile, err)
		}
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendSummary(path, verdict, cr); err != nil {
			fmt.Fprintf(stderr, "warning: could not write $GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	if len(regressed) > 0 {
		return errGateFailed
	}
	return nil
}

// rowGroups lists a comparison's columns.
func rowGroups(c *stats.Comparison) []string {
	out := make([]string, len(c.Rows))
	for i, r := range c.Rows {
		out[i] = r.Group
	}
	return out
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
	err = cr.Markdown(f)
	return errors.Join(err, f.Close())
}
