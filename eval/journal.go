package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// A Journal is an append-only JSONL file of records, each keyed by a
// content hash. Append writes one line and returns only once the line is
// on disk (fsync). Concurrent appends share their syncs (group commit), so
// durability per line costs far fewer than one fsync per line.
//
// Only the keys and the lines' offsets are kept in memory; a record is
// read back from the file when asked for. Records that carry an error are
// not indexed, so a resumed run redoes them.
//
// A Journal is safe for concurrent use.
type Journal struct {
	path string

	mu     sync.Mutex
	f      *os.File
	size   int64
	index  map[string]span
	failed map[string]span // the last failed record of keys not in index
	closed bool

	// Group commit: appended counts lines written, synced the lines known
	// to be on disk. One appender at a time syncs; the others wait on cond
	// for a sync that covers their line.
	syncMu   sync.Mutex
	cond     *sync.Cond
	appended int64
	synced   int64
	syncing  bool
	syncErr  error
}

type span struct {
	off int64
	n   int32
}

// journalLine is the part of every record the journal itself reads.
type journalLine struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

// OpenJournal opens or creates the journal at path and indexes the lines
// already there. A torn last line, the mark of a crash in mid-write, is
// cut off and reported in warning; a bad line anywhere else is an error.
func OpenJournal(path string) (j *Journal, warning string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", err
	}
	j = &Journal{path: path, f: f, index: map[string]span{}, failed: map[string]span{}}
	j.cond = sync.NewCond(&j.syncMu)
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	for lineNo := 1; ; lineNo++ {
		line, rerr := r.ReadBytes('\n')
		if len(line) == 0 && rerr == io.EOF {
			break
		}
		var rec journalLine
		whole := len(line) > 0 && line[len(line)-1] == '\n'
		if !whole || json.Unmarshal(line, &rec) != nil || rec.Key == "" {
			if _, rest := r.Peek(1); whole && rest == nil {
				f.Close()
				return nil, "", fmt.Errorf("%s: line %d is corrupt; the journal cannot be trusted (move it aside to start this run over)", path, lineNo)
			}
			// The last line is torn: cut it off.
			if err := f.Truncate(off); err != nil {
				f.Close()
				return nil, "", err
			}
			warning = fmt.Sprintf("%s: dropped a torn last line (%d bytes) left by an interrupted write; its item will be redone", path, len(line))
			break
		}
		j.put(rec.Key, rec.Error != "", span{off, int32(len(line))})
		off += int64(len(line))
		if rerr == io.EOF {
			break
		}
	}
	j.size = off
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, "", err
	}
	return j, warning, nil
}

// put indexes a line. Call with j.mu held (or before j is shared).
func (j *Journal) put(key string, failed bool, s span) {
	if failed {
		if _, ok := j.index[key]; !ok {
			j.failed[key] = s
		}
		return
	}
	j.index[key] = s
	delete(j.failed, key)
}

// Len returns the number of keys indexed: records without an error.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.index)
}

// Has reports whether key has a record without an error.
func (j *Journal) Has(key string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, ok := j.index[key]
	return ok
}

// Get reads key's record into v. It reports false when there is none.
func (j *Journal) Get(key string, v any) (bool, error) {
	j.mu.Lock()
	s, ok := j.index[key]
	j.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, j.read(s, key, v)
}

// GetFailed reads the last failed record of a key that has no successful
// one into v. It reports false when there is none.
func (j *Journal) GetFailed(key string, v any) (bool, error) {
	j.mu.Lock()
	s, ok := j.failed[key]
	j.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, j.read(s, key, v)
}

func (j *Journal) read(s span, key string, v any) error {
	buf := make([]byte, s.n)
	if _, err := j.f.ReadAt(buf, s.off); err != nil {
		return fmt.Errorf("%s: %w", j.path, err)
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("%s: record %s: %w", j.path, key, err)
	}
	return nil
}

// Append writes rec, whose JSON form must have a "key" and, for a failed
// attempt, a non-empty "error", as one line and waits until it is synced.
// A record whose key is already indexed is not written again.
func (j *Journal) Append(key string, rec any) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if bytes.IndexByte(b, '\n') >= 0 {
		return errors.New("journal: record marshals to several lines")
	}
	var errored journalLine
	_ = json.Unmarshal(b, &errored)
	b = append(b, '\n')

	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return errors.New("journal: closed")
	}
	if _, dup := j.index[key]; dup {
		j.mu.Unlock()
		return nil
	}
	off := j.size
	if _, err := j.f.Write(b); err != nil {
		j.mu.Unlock()
		return fmt.Errorf("%s: %w", j.path, err)
	}
	j.size += int64(len(b))
	j.put(key, errored.Error != "", span{off, int32(len(b))})
	j.syncMu.Lock()
	j.appended++
	seq := j.appended
	j.syncMu.Unlock()
	j.mu.Unlock()
	return j.waitSynced(seq)
}

// waitSynced returns once line seq is on disk, syncing if no one else is.
func (j *Journal) waitSynced(seq int64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	for j.synced < seq {
		if j.syncErr != nil {
			return j.syncErr
		}
		if j.syncing {
			j.cond.Wait()
			continue
		}
		// Subtleness ahead: every line counted in appended was written
		// before its count was taken, so one fsync now covers them all.
		j.syncing = true
		target := j.appended
		j.syncMu.Unlock()
		err := j.f.Sync()
		j.syncMu.Lock()
		j.syncing = false
		if err != nil {
			j.syncErr = fmt.Errorf("%s: sync: %w", j.path, err)
		} else {
			j.synced = target
		}
		j.cond.Broadcast()
	}
	return nil
}

// Close closes the file. Appends after Close fail.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	return j.f.Close()
}
