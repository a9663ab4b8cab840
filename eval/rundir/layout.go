package rundir

import (
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/psveval/psveval/eval/store"
)

// The files of a run directory.
const (
	ManifestFile  = "manifest.json"
	AnswersFile   = "answers.jsonl"
	JudgmentsFile = "judgments.jsonl"
	ResultsFile   = "results.jsonl"
	SummaryFile   = "summary.json"
	ReportFile    = "report.md"
	// ServerLogFile is the output of the model server psveval sweep
	// started for the run; it may be in the directory before the run is.
	ServerLogFile = "server.log"
)

// WriteManifest writes m to dir's manifest.json, atomically.
func WriteManifest(dir string, m *Manifest) error {
	return store.WriteJSON(filepath.Join(dir, ManifestFile), m)
}

// Version is psveval's version, set at release time with
// -ldflags "-X github.com/psveval/psveval/eval/rundir.Version=v1.2.3".
var Version = "dev"

// Tool describes this build for manifests: the version, and the git
// revision that go build stamps into the binary (vcs.revision, with
// "+modified" for a dirty tree), or "unknown" for builds that carry none
// (go run, go test, -buildvcs=false).
func Tool() ToolInfo {
	ti := ToolInfo{Version: Version, Revision: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ti
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" && Version == "dev" {
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
	return ti
}
