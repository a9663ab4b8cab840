package rundir_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
)

// TestOpenVerdicts reads a finished run's verdicts, one map of criteria
// per scored item, and refuses a folder that holds no run with
// ErrNotRunDir, before reading anything.
func TestOpenVerdicts(t *testing.T) {
	srv := llmtest.New(t, llmtest.Config{})
	dir := filepath.Join(t.TempDir(), "run")
	runInto(t, srv, dir, nil)
	v, err := rundir.OpenVerdicts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Items) != 24 || len(v.Met) != 24 {
		t.Fatalf("OpenVerdicts: %d items, %d with verdicts; want 24 of each", len(v.Items), len(v.Met))
	}
	for _, id := range v.Items {
		if len(v.Met[id]) == 0 {
			t.Errorf("item %s: no criteria", id)
		}
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, rundir.ResultsFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := rundir.OpenVerdicts(empty); !errors.Is(err, rundir.ErrNotRunDir) {
		t.Errorf("OpenVerdicts of a folder without a manifest = %v, want ErrNotRunDir", err)
	}
}
