package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// createTemp creates a new file in dir named prefix and random digits,
// with mode 0644 less the umask, as the journals get (os.CreateTemp
// gives 0600, which would hide a shared run's outputs from its readers).
func createTemp(dir, prefix string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("%s: cannot create a temporary file", dir)
}

// tempPrefix begins the names of the temporary files WriteFileFunc writes
// path through: hidden, beside it.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// WriteFileAtomic writes b to path through a temporary file and a rename,
// so a reader (or a crash) never sees half a file.
func WriteFileAtomic(path string, b []byte) error {
	return WriteFileFunc(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteFileFunc is WriteFileAtomic for content that write streams, through
// a buffer, so the content is never held in memory whole.
func WriteFileFunc(path string, write func(io.Writer) error) error {
	f, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// An AtomicFile is a file written whole or not at all: what is written
// goes, through a buffer, to a temporary file beside its path; Commit
// syncs it and renames it over the path, and Abort removes it. It is
// WriteFileFunc for a writer that outlives one call.
type AtomicFile struct {
	*bufio.Writer
	path string
	tmp  *os.File
}

// CreateAtomic starts writing path.
func CreateAtomic(path string) (*AtomicFile, error) {
	tmp, err := createTemp(filepath.Dir(path), tempPrefix(path))
	if err != nil {
		return nil, err
	}
	return &AtomicFile{Writer: bufio.NewWriterSize(tmp, 1<<16), path: path, tmp: tmp}, nil
}

// Commit writes what is buffered, syncs the file and renames it over the
// path. After an error the temporary file is gone and the path as it was.
func (f *AtomicFile) Commit() error {
	err := f.Flush()
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.tmp.Name())
	}
	return err
}

// Abort removes the temporary file, leaving the path as it was.
func (f *AtomicFile) Abort() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// RemoveTemps removes the temporary files WriteFileFunc left for path when
// its process was killed mid-write. Call it only where no other process
// may be writing path.
func RemoveTemps(path string) error {
	stale, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPrefix(path)+"*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WriteJSON writes v, indented, to path atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}
