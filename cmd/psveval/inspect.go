package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/reports"
)

func inspectCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("inspect", "[flags] FILE", stderr)
	var df datasetFlags
	df.register(fs)
	format := fs.String("format", "text", "output `format`: text or json")
	decode := fs.Bool("decode", false, "fully decode every distinct image, to find corrupt image data")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return cmdline.Usagef("inspect takes one dataset file")
	}
	ds, err := df.open(fs.Arg(0))
	if err != nil {
		return err
	}
	in, walkErr := dataset.Inspect(ds, dataset.InspectOptions{Decode: *decode})
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(in); err != nil {
			return err
		}
	case "text":
		if err := reports.Inspection(stdout, in, cmdline.Width(stdout)); err != nil {
			return err
		}
	default:
		return cmdline.Usagef("unknown --format %q (want text or json)", *format)
	}
	if walkErr != nil {
		return walkErr
	}
	return nil
}
