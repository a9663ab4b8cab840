package main

import (
	"context"
	"flag"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/reports"
)

// compareFlags are shared by compare and gate.
type compareFlags struct {
	statFlags
	alpha   float64
	minN    int
	maxDrop float64
	// allowJudgeChange lets compare and gate pair runs judged by
	// different served judge models.
	allowJudgeChange bool
}

func (c *compareFlags) register(fs *flag.FlagSet) {
	c.statFlags.register(fs)
	fs.Float64Var(&c.alpha, "alpha", stats.DefaultThresholds.Alpha, "significance level, between 0 and 1; intervals are at level 1-alpha")
	fs.IntVar(&c.minN, "min-n", stats.DefaultThresholds.MinN, "groups with fewer paired items (at least 1) are reported but never gated")
	fs.Float64Var(&c.maxDrop, "max-drop", stats.DefaultThresholds.MaxDrop, "largest drop in accuracy `points` (0 or more) that does not count as a regression")
	fs.BoolVar(&c.allowJudgeChange, "allow-judge-change", false, "compare runs whose judge endpoints served different models (a moving alias such as deepseek-chat that moved between them); refused otherwise, since the difference would mix model and judge")
}

// checkJudges refuses, unless --allow-judge-change, two runs whose
// judges served different models.
func (c *compareFlags) checkJudges(base, cand *rundir.RunDir) error {
	if c.allowJudgeChange || base.Manifest == nil || cand.Manifest == nil {
		return nil
	}
	if d := rundir.JudgeChange(base.Manifest, cand.Manifest); len(d) > 0 {
		return cmdline.Usagef("%s and %s were judged by different served models (%s): their difference mixes model and judge; re-judge one with the other's judge (psveval judge), or give --allow-judge-change", base.Dir, cand.Dir, strings.Join(d, "; "))
	}
	return nil
}

// validate checks every statistics flag against its documented range.
func (c *compareFlags) validate() error {
	if err := c.statFlags.validate(); err != nil {
		return err
	}
	switch {
	case !(c.alpha > 0 && c.alpha < 1):
		return cmdline.Usagef("--alpha %g: want a significance level between 0 and 1, such as 0.05", c.alpha)
	case !(c.maxDrop >= 0) || math.IsInf(c.maxDrop, 0):
		return cmdline.Usagef("--max-drop %g: want a drop in accuracy points of 0 or more, such as 1.0", c.maxDrop)
	case c.minN < 1:
		return cmdline.Usagef("--min-n %d: want at least 1 paired item", c.minN)
	}
	return nil
}

// defaultCompare is the comparison with the default thresholds, for
// commands that compare without a gate's flags (agree, sweep).
func defaultCompare(sf statFlags) compareFlags {
	t := stats.DefaultThresholds
	return compareFlags{statFlags: sf, alpha: t.Alpha, minN: t.MinN, maxDrop: t.MaxDrop}
}

// options are the comparison options the flags describe.
func (c *compareFlags) options() stats.CompareOptions {
	return stats.CompareOptions{
		By: c.by, Resamples: c.resamples, Seed: c.seed,
		Thresholds: stats.Thresholds{MinN: c.minN, MaxDrop: c.maxDrop, Alpha: c.alpha},
	}
}

func (c *compareFlags) compare(base, cand *rundir.RunDir) *stats.Comparison {
	return stats.Compare(base.Scores, cand.Scores, c.options())
}

func compareCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("compare", "[flags] BASE_DIR CAND_DIR", stderr)
	var cf compareFlags
	cf.register(fs)
	format := fs.String("format", "text", "output `format`: text, markdown, json, or html (both runs item by item, with improved, worsened and changed-answer filters; needs -o)")
	var hf htmlFlags
	hf.register(fs)
	flips := fs.Bool("flips", false, "list the items whose score changed, with question, both answers and both verdicts")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if err := cf.validate(); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return cmdline.Usagef("compare takes two run directories: BASE_DIR CAND_DIR")
	}
	if !slices.Contains([]string{"text", "markdown", "md", "json", "html"}, *format) {
		return cmdline.Usagef("--format %q: want text, markdown, json or html", *format)
	}
	if err := hf.validate(*format); err != nil {
		return err
	}
	runs, err := rundir.LoadRuns(fs.Args(), cf.aggregate(false))
	if err != nil {
		return reportErr(err)
	}
	base, cand := runs[0], runs[1]
	if err := cf.checkJudges(base, cand); err != nil {
		return err
	}
	cr := &reports.ComparisonReport{Base: base.Label(), Cand: cand.Label(), C: cf.compare(base, cand), Notes: reports.ComparableNotes(base, cand), Width: cf.textWidth(stdout)}
	cr.Base, cr.Cand = reports.PairLabels(base, cand, "base")
	if *format == "html" {
		return hf.write(stderr, runs, []string{cr.Base, cr.Cand}, reports.Options{CI: true, Title: "psveval compare: " + cr.Cand + " against " + cr.Base})
	}
	if err := hf.output(stdout, func(w io.Writer) error { return cr.Render(w, *format) }); err != nil {
		return cmdline.Usage(err)
	}
	if *flips {
		flips, err := rundir.Flips(base, cand)
		if err != nil {
			return err
		}
		return (&reports.FlipsReport{Flips: flips}).Render(stdout, "text")
	}
	return nil
}
