package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/reports"
	"github.com/psveval/psveval/rubric"
)

// mergeCmd joins the finished shards of one run into an ordinary run
// directory.
func mergeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("merge", "SHARD_DIR... --out RUN_DIR", stderr)
	out := fs.String("out", "", "the merged run `directory` (new, or empty)")
	imageRoot := fs.String("image-root", "", "`folder` the dataset's image paths are relative to, if it moved")
	rubricFile := fs.String("rubric", "", "the default rubric `file` the shards were run with, if not the built-in one")
	mixed := fs.Bool("allow-mixed-versions", false, "merge shards that different psveval versions or revisions built")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || *out == "" {
		return cmdline.Usagef("merge takes the shard run directories and --out DIR")
	}
	if err := cmdline.CheckOutDir("--out", *out); err != nil {
		return err
	}
	opts := rundir.MergeOptions{ImageRoot: *imageRoot, Args: llm.RedactArgs(args), AllowMixedVersions: *mixed}
	if *rubricFile != "" {
		r, err := rubric.Load(*rubricFile)
		if err != nil {
			return cmdline.Usage(err)
		}
		opts.Rubric = &r
	}
	mg, err := rundir.Merge(fs.Args(), *out, opts)
	if _, ok := errors.AsType[*rundir.MergeError](err); ok {
		return cmdline.Usage(err)
	} else if _, ok := errors.AsType[*rundir.UnfinishedError](err); ok {
		return cmdline.Usage(err) // merge's inputs must be finished shards
	} else if err != nil {
		return reportErr(err)
	}
	fmt.Fprintf(stderr, "merged %s (%s) into %s\n", eval.Nouns(mg.Shards, "shard"), eval.Nouns(mg.Items, "item"), mg.Dir)
	run := reports.Run{Label: mg.Manifest.Label(), Dir: mg.Dir, Summary: mg.Summary, Manifest: mg.Manifest}
	return reports.Finished(stdout, run, reports.Options{Width: cmdline.Width(stdout)})
}
