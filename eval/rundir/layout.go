package rundir

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/psveval/psveval/eval/stats"
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
	// NoiseFile is the judge's noise that psveval judge --repeat measured,
	// in the directory that holds the repeats.
	NoiseFile = "noise.json"
	// LockFile is the lock a writer holds on a run or sweep directory
	// (see LockDir), with who holds it.
	LockFile = "lock"
)

// The files of a sweep directory, beside one run directory per point.
const (
	// SweepSpecFile is the sweep's spec, kept so a resume or a report
	// reads the same points.
	SweepSpecFile = "sweep.json"
	// ServersFile lists the model servers a sweep has running, so a
	// later sweep stops those a killed one left behind.
	ServersFile = "servers.json"
	// AnalysisFile is the sweep's analysis: best values and steps.
	AnalysisFile = "analysis.json"
	// SweepPlotName is the plot's file name without its extension
	// (sweep.svg, sweep.png).
	SweepPlotName = "sweep"
)

// RepeatDir is the run directory of the r-th (from 1) repeat of psveval
// judge --repeat under dir.
func RepeatDir(dir string, r int) string {
	return filepath.Join(dir, "repeat-"+strconv.Itoa(r))
}

// WriteReport writes a run's Markdown report to dir's report.md,
// atomically. It is the one writer of that file.
func WriteReport(dir string, md []byte) error {
	return store.WriteFileAtomic(filepath.Join(dir, ReportFile), md)
}

// WriteSummary writes a run's summary to dir's summary.json, atomically.
func WriteSummary(dir string, s *stats.Summary) error {
	return store.WriteJSON(filepath.Join(dir, SummaryFile), s)
}

// CopyAnswers copies the answer journal of the run in src into dst, for a
// re-judging that asks the model nothing.
func CopyAnswers(src, dst string) error {
	b, err := os.ReadFile(filepath.Join(src, AnswersFile))
	if err != nil {
		return fmt.Errorf("source run %s: %w", src, err)
	}
	return os.WriteFile(filepath.Join(dst, AnswersFile), b, 0o644)
}

// WriteNoise writes the judge's noise to dir's noise.json, atomically.
func WriteNoise(dir string, n *stats.JudgeNoise) error {
	return store.WriteJSON(filepath.Join(dir, NoiseFile), n)
}

// ReadNoise reads the judge's noise that psveval judge --repeat wrote
// into dir.
func ReadNoise(dir string) (*stats.JudgeNoise, error) {
	b, err := os.ReadFile(filepath.Join(dir, NoiseFile))
	if err != nil {
		return nil, err
	}
	var n stats.JudgeNoise
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, NoiseFile), err)
	}
	return &n, nil
}

// WriteAnalysis writes a sweep's analysis to dir's analysis.json.
func WriteAnalysis(dir string, v any) error {
	return store.WriteJSON(filepath.Join(dir, AnalysisFile), v)
}

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
