package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A Lock is a writer's hold on a run or sweep directory: an advisory lock
// (flock) on the directory's lock file, held for as long as the process
// writes there. The kernel drops it when the process ends, however it
// ends, so a kill -9 leaves no stale lock. Over NFSv4 flock goes through
// the server's lock manager; over NFSv3 it depends on the client's lockd,
// and a directory shared by machines that cannot lock it is not safe for
// two writers (see the README).
type Lock struct{ f *os.File }

// A LockedError refuses a second writer: another process holds dir.
type LockedError struct {
	Dir string
	// Holder is what the holder wrote into the lock file: its host, pid,
	// start time and command ("" if it had not written it yet).
	Holder string
}

func (e *LockedError) Error() string {
	who := "another psveval process"
	if e.Holder != "" {
		who = e.Holder
	}
	return fmt.Sprintf("%s is being written by %s: two writers would corrupt its journals; wait for it to finish or stop it (a killed process lets go at once)", e.Dir, who)
}

// LockDir creates dir if need be and takes its lock for this process, for
// what ("run", "merge", "sweep"), recording who holds it. It returns a
// *LockedError at once when another process holds it.
func LockDir(dir, what string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	err = flock(f)
	// A process forking a child holds every descriptor in the child until
	// it execs, so a lock just let go may linger for a moment: try again
	// for a quarter of a second before refusing. A real holder holds on.
	for wait := 5 * time.Millisecond; errors.Is(err, errLocked) && wait <= 160*time.Millisecond; wait *= 2 {
		time.Sleep(wait)
		err = flock(f)
	}
	if err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, &LockedError{Dir: dir, Holder: strings.TrimSpace(string(b))}
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s on host %s, pid %d, since %s", what, host, os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(holder+"\n"), 0)
	}
	return &Lock{f}, nil
}

// Release lets the directory go. The lock file stays, empty of a holder.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}
