package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/psveval/psveval/eval/rundir"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func toolInfo() rundir.ToolInfo {
	ti := rundir.ToolInfo{Version: version, Revision: "unknown", GoVersion: runtime.Version()}
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
	if ti.Revision == "unknown" {
		ti.Revision = gitRevision()
	}
	return ti
}

// gitRevision asks git for the revision of the source this binary was
// built from, for builds that carry none (go run, or GOFLAGS=-buildvcs=false):
// the source folder is known when the binary runs beside its checkout.
func gitRevision() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "unknown"
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); err != nil {
		return "unknown"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rev, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	r := strings.TrimSpace(string(rev))
	if st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		r += "+modified"
	}
	return r
}

func versionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ti := toolInfo()
	_, err := fmt.Fprintf(stdout, "psveval %s (git %s, %s)\n", ti.Version, ti.Revision, ti.GoVersion)
	return err
}
