//go:build !unix

package rundir

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// flock is not available here: the lock file names the holder, and two
// writers are not stopped.
func flock(*os.File) error { return nil }
