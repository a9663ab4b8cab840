package main

import (
	"context"
	"fmt"
	"io"

	"github.com/psveval/psveval/eval/rundir"
)

func versionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ti := rundir.Tool()
	_, err := fmt.Fprintf(stdout, "psveval %s (git %s, %s)\n", ti.Version, ti.Revision, ti.GoVersion)
	return err
}
