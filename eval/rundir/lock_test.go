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
