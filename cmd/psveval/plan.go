package main

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/reports"
)

// planCmd answers, from measured inputs, how many labels or items a
// study needs before anything is spent.
func planCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "labels" && args[0] != "items") {
		return cmdline.Usagef("plan takes labels or items:\n  psveval plan labels --labels PILOT.jsonl --half-width H RUN_DIR\n  psveval plan items --delta D [--power 0.8] [--noise DIR] RUN_DIR [RUN_DIR2]")
	}
	what := args[0]
	fs := cmdline.NewFlagSet("plan "+what, "[flags] RUN_DIR [RUN_DIR2]", stderr)
	labels := fs.String("labels", "", "labels: a pilot labels `file` (audit's format, best a sheet from audit --sample) on RUN_DIR's items")
	half := fs.Float64("half-width", 2, "labels: the corrected Avg interval's half-width to reach, in `points`")
	delta := fs.Float64("delta", 2, "items: the drop in Avg `points` the gate must catch")
	power := fs.Float64("power", 0.8, "items: the chance of catching it, between 0 and 1")
	noiseDir := fs.String("noise", "", "items: psveval judge --repeat's --out `DIR`, whose shared judge noise the gate adds (gate --noise)")
	format := fs.String("format", "text", "output `format`: text or json")
	var cf compareFlags
	cf.register(fs)
	if err := cmdline.Parse(fs, args[1:]); err != nil {
		return err
	}
	if err := cf.validate(); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return cmdline.Usagef("--format %q: want text or json", *format)
	}
	var pr *reports.PlanReport
	var err error
	if what == "labels" {
		pr, err = planLabels(fs.Args(), *labels, *half)
	} else {
		pr, err = planItems(fs.Args(), cf, *delta, *power, *noiseDir)
	}
	if err != nil {
		return err
	}
	pr.Width = cf.textWidth(stdout)
	return pr.Render(stdout, *format)
}

func planLabels(dirs []string, labels string, half float64) (*reports.PlanReport, error) {
	switch {
	case len(dirs) != 1 || labels == "":
		return nil, cmdline.Usagef("plan labels takes --labels PILOT.jsonl and one run directory")
	case !(half > 0 && half < 50):
		return nil, cmdline.Usagef("--half-width %g: want points between 0 and 50, such as 2", half)
	}
	lp, err := rundir.PlanLabels(dirs[0], labels, half, 0.95)
	if errors.Is(err, rundir.ErrNotRunDir) || errors.Is(err, rundir.ErrNoResults) {
		return nil, reportErr(err)
	} else if err != nil {
		return nil, cmdline.Usage(err)
	}
	return &reports.PlanReport{Labels: lp, Source: "pilot " + labels + " on " + dirs[0]}, nil
}

func planItems(dirs []string, cf compareFlags, delta, power float64, noiseDir string) (*reports.PlanReport, error) {
	switch {
	case len(dirs) < 1 || len(dirs) > 2:
		return nil, cmdline.Usagef("plan items takes a pilot run directory, or two runs of the same items (base, candidate) to measure the pairing")
	case !(delta > 0) || math.IsInf(delta, 0):
		return nil, cmdline.Usagef("--delta %g: want a drop in points above 0, such as 2", delta)
	case !(power > 0 && power < 1):
		return nil, cmdline.Usagef("--power %g: want a chance between 0 and 1, such as 0.8", power)
	}
	ip, err := rundir.PlanItems(dirs, cf.aggregate(false), stats.ItemPlanOptions{Delta: delta, Power: power, Alpha: cf.alpha, MaxDrop: cf.maxDrop}, noiseDir)
	if errors.Is(err, rundir.ErrNotRunDir) || errors.Is(err, rundir.ErrNoResults) || errors.Is(err, stats.ErrInconsistent) {
		return nil, reportErr(err)
	} else if err != nil {
		return nil, cmdline.Usage(err)
	}
	src := strings.Join(dirs, " and ")
	return &reports.PlanReport{Items: ip, Source: src}, nil
}
