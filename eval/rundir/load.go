package rundir

import (
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"

	"github.com/psveval/psveval/eval/stats"
	"github.com/sourcegraph/conc/pool"
)

// LoadRuns loads run directories, a few at a time, in the order given.
func LoadRuns(dirs []string, opts stats.AggregateOptions) ([]*RunDir, error) {
	p := pool.NewWithResults[*RunDir]().WithErrors().WithMaxGoroutines(4)
	for _, d := range dirs {
		p.Go(func() (*RunDir, error) { return LoadRun(d, opts) })
	}
	runs, err := p.Wait()
	if err != nil {
		return nil, err
	}
	// Results come back in completion order; restore the given order.
	byDir := map[string]*RunDir{}
	for _, r := range runs {
		byDir[r.Dir] = r
	}
	out := make([]*RunDir, len(dirs))
	for i, d := range dirs {
		out[i] = byDir[d]
	}
	return out, nil
}

// Same reports whether the run directories a and b hold the same run:
// the same directory, however written (./a/ and a, a link), or two
// directories whose results.jsonl are byte for byte equal, as a copy's
// are. why says which.
func Same(a, b string) (same bool, why string, err error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, "", err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, "", err
	}
	if os.SameFile(sa, sb) {
		return true, "one directory", nil
	}
	ha, err := fileHash(filepath.Join(a, ResultsFile))
	if err != nil {
		return false, "", err
	}
	hb, err := fileHash(filepath.Join(b, ResultsFile))
	if err != nil {
		return false, "", err
	}
	if ha == hb {
		return true, "their results.jsonl are identical", nil
	}
	return false, "", nil
}

func fileHash(path string) ([32]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

// GateRun is the gate's view of a loaded run: its scores, and the items
// it skipped as bad input.
func (r *RunDir) GateRun() stats.GateRun {
	g := stats.GateRun{Name: r.Dir, Summary: r.Summary, Scores: r.Scores}
	if r.Manifest != nil {
		g.Skipped = len(r.Manifest.Dataset.Skipped)
	}
	return g
}

// ShortFingerprint is the run's dataset fingerprint, shortened, or
// "(none recorded)".
func (r *RunDir) ShortFingerprint() string {
	if r.Manifest == nil || r.Manifest.Dataset.Fingerprint == "" {
		return "(none recorded)"
	}
	return ShortHash(r.Manifest.Dataset.Fingerprint)
}
