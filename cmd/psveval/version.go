package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/psveval/psveval/eval"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func toolInfo() eval.ToolInfo {
	ti := eval.ToolInfo{Version: version, Revision: "unknown", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" && version == "dev" {
			ti.Version = bi.Main.Version
		}
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				ti.Revision = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && ti.Revision != "unknown" {
			ti.Revision += "+modified"
		}
	}
	return ti
}

func versionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ti := toolInfo()
	_, err := fmt.Fprintf(stdout, "psveval %s (git %s, %s)\n", ti.Version, ti.Revision, ti.GoVersion)
	return err
}
