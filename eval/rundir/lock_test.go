package rundir_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/rundir"
)

// TestLockDir: a second lock on a held directory is refused at once,
// naming the holder; once released, the directory can be taken again.
func TestLockDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	a, err := rundir.LockDir(dir, "psveval run A")
	if err != nil {
		t.Fatal(err)
	}
	_, err = rundir.LockDir(dir, "psveval run B")
	le, ok := errors.AsType[*rundir.LockedError](err)
	if !ok || !strings.Contains(le.Holder, "psveval run A") || !strings.Contains(le.Holder, "pid") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second lock: %v, want a LockedError naming A", err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, rundir.LockFile)); len(b) != 0 {
		t.Errorf("a released lock still names %q", b)
	}
	b, err := rundir.LockDir(dir, "psveval run B")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Release()
}

// TestResumeCommand: the command that finishes a run is one that runs
// when pasted: it names psveval run, and a shard taken from a job array
// (--shard auto) is written out, since auto means nothing outside it.
func TestResumeCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args  []string
		shard string
		want  string
	}{
		{[]string{"--config", "med.yaml", "--out", "runs/unf"}, "", "psveval run --config med.yaml --out runs/unf"},
		{[]string{"run", "--data", "d.jsonl"}, "", "psveval run --data d.jsonl"},
		{[]string{"judge", "SRC", "--out", "j"}, "", "psveval judge SRC --out j"},
		{[]string{"--config", "c.yaml", "--shard", "auto", "--shard-count", "8", "--out", "s"}, "3/8", "psveval run --config c.yaml --shard 3/8 --out s"},
		{[]string{"--shard=auto", "--shard-count=8", "--out", "s"}, "3/8", "psveval run --shard=3/8 --out s"},
		{[]string{"--question-suffix", "Answer briefly."}, "", "psveval run --question-suffix 'Answer briefly.'"},
	} {
		m := &rundir.Manifest{Args: tc.args}
		m.Dataset.Shard = tc.shard
		if got := m.ResumeCommand(); got != tc.want {
			t.Errorf("ResumeCommand(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
