package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/psveval/psveval/eval/jsonscan"
)

// A Journal is an append-only JSONL file of records, each keyed by a
// content hash. Append writes one line and returns once the file holds it,
// so the line survives the process being killed. When the line reaches
// the disk itself (fsync), which a power cut or a kernel crash needs, is
// set by SyncEvery: with 0 Append waits for that too, and concurrent
// appends share their syncs (group commit); with an interval, a sync
// follows each write within the interval, off the appenders' path, and
// Close syncs what is left.
//
// Only the keys and the lines' offsets are kept in memory; a record is
// read back from the file when asked for. Records that carry an error are
// not indexed, so a resumed run redoes them.
//
// A Journal is safe for concurrent use.
type Journal struct {
	path string
	// SyncEvery bounds how long a written line may wait for its fsync;
	// 0 makes every Append wait for it. Set it before the first Append.
	SyncEvery time.Duration

	// mu guards everything below. Appended lines wait in pending until the
	// one appender that syncs writes them all in one write and one fsync
	// (group commit); the others wait on cond for a sync that covers their
	// line. A line is indexed once it is written, so Get never reads past
	// what the file holds.
	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	end     int64          // the file's length once pending is written
	index   map[jkey]int64 // offsets of lines
	failed  map[jkey]int64 // the last failed record of keys not in index
	pending []byte
	spans   []pendingSpan
	// spare and spareSpans are pending and spans as last written, kept
	// for the next lines (at most maxSpare bytes).
	spare      []byte
	spareSpans []pendingSpan
	queued     map[jkey]bool // keys with a success in pending or being written
	appended   int64
	synced     int64
	syncing    bool
	syncErr    error
	closed     bool
	// dirty marks lines written and not yet synced, under SyncEvery; a
	// sync is due on timer, and bgSync marks one in progress.
	dirty  bool
	timer  *time.Timer
	bgSync bool
}

// maxSpare bounds the written buffer a journal keeps for reuse.
const maxSpare = 1 << 20

type pendingSpan struct {
	key    jkey
	failed bool
	off    int64
}

// A jkey is a key in 8 bytes. Keys are hex SHA-256 digests, and the index
// holds one per item, so their size is what the journal's memory grows
// with: with 64 bits, the chance that two of 100,000 keys collide is about
// 3·10⁻¹⁰. Keys that are not hex are hashed first.
type jkey uint64

func keyOf(key string) jkey {
	var b [8]byte
	if len(key) < 16 {
		sum := sha256.Sum256([]byte(key))
		return jkey(binary.LittleEndian.Uint64(sum[:]))
	}
	if _, err := hex.Decode(b[:], []byte(key[:16])); err != nil {
		sum := sha256.Sum256([]byte(key))
		return jkey(binary.LittleEndian.Uint64(sum[:]))
	}
	return jkey(binary.LittleEndian.Uint64(b[:]))
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
	j = &Journal{path: path, f: f, index: map[jkey]int64{}, failed: map[jkey]int64{}, queued: map[jkey]bool{}}
	j.cond = sync.NewCond(&j.mu)
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
		j.put(keyOf(rec.Key), rec.Error != "", off)
		off += int64(len(line))
		if rerr == io.EOF {
			break
		}
	}
	j.end = off
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, "", err
	}
	return j, warning, nil
}

// put indexes a line. Call with j.mu held (or before j is shared).
func (j *Journal) put(key jkey, failed bool, off int64) {
	if failed {
		if _, ok := j.index[key]; !ok {
			j.failed[key] = off
		}
		return
	}
	j.index[key] = off
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
	_, ok := j.index[keyOf(key)]
	return ok
}

// Get reads key's record into v. It reports false when there is none.
func (j *Journal) Get(key string, v any) (bool, error) {
	j.mu.Lock()
	off, ok := j.index[keyOf(key)]
	j.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, j.read(off, key, v)
}

// GetFailed reads the last failed record of a key that has no successful
// one into v. It reports false when there is none.
func (j *Journal) GetFailed(key string, v any) (bool, error) {
	j.mu.Lock()
	off, ok := j.failed[keyOf(key)]
	j.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, j.read(off, key, v)
}

var readBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// read decodes the line at off into v. Lines are found by their offset
// alone; reading on to the newline costs less than keeping each length.
func (j *Journal) read(off int64, key string, v any) error {
	var line []byte
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	for {
		n, err := j.f.ReadAt(buf, off+int64(len(line)))
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			line = append(line, buf[:i]...)
			break
		}
		line = append(line, buf[:n]...)
		if err != nil {
			return fmt.Errorf("%s: record %s: %w", j.path, key, err)
		}
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("%s: record %s: %w", j.path, key, err)
	}
	var got string
	_ = jsonscan.Fields(line, func(k []byte) bool { return string(k) == "key" }, func(_, raw []byte) error {
		got, _ = jsonscan.String(raw)
		return nil
	})
	if got != key {
		return fmt.Errorf("%s: the record at byte %d has key %s, not %s: two keys share their first 64 bits", j.path, off, got, key)
	}
	return nil
}

// errMultiline refuses a record whose JSON form is not one line.
var errMultiline = errors.New("journal: record marshals to several lines")

// Append writes rec as one line and waits until the file holds it (and,
// with SyncEvery 0, until it is synced). rec's JSON
// form must have a "key" equal to key and, when failed, a non-empty
// "error": that is how a reopened journal tells failures from successes.
// A record whose key is already indexed is not written again. A record
// with an AppendJSON method is written by it, straight into the lines
// waiting to be written (see jsonAppender).
func (j *Journal) Append(key string, failed bool, rec any) error {
	a, fast := rec.(jsonAppender)
	var b []byte
	if !fast {
		var err error
		if b, err = json.Marshal(rec); err != nil {
			return err
		}
		if bytes.IndexByte(b, '\n') >= 0 {
			return errMultiline
		}
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errors.New("journal: closed")
	}
	if j.syncErr != nil {
		return j.syncErr // a deferred sync failed: the disk cannot be trusted
	}
	k := keyOf(key)
	if _, dup := j.index[k]; dup || j.queued[k] {
		return nil // a success for this key is on disk or on its way
	}
	start := len(j.pending)
	if fast {
		j.pending = a.AppendJSON(j.pending)
		if bytes.IndexByte(j.pending[start:], '\n') >= 0 {
			j.pending = j.pending[:start]
			return errMultiline
		}
	} else {
		j.pending = append(j.pending, b...)
	}
	j.pending = append(j.pending, '\n')
	if !failed {
		j.queued[k] = true
	}
	j.spans = append(j.spans, pendingSpan{k, failed, j.end})
	j.end += int64(len(j.pending) - start)
	j.appended++
	seq := j.appended
	for j.synced < seq {
		if j.syncErr != nil {
			return j.syncErr
		}
		if j.syncing {
			j.cond.Wait()
			continue
		}
		j.flush()
	}
	return nil
}

// flush writes everything pending, and syncs it unless SyncEvery defers
// the sync to syncLater. Call with j.mu held; it is released while the
// disk works.
func (j *Journal) flush() {
	j.syncing = true
	buf, spans, target := j.pending, j.spans, j.appended
	// The buffers written last time take the next lines: one flush runs
	// at a time, and the file does not keep what it was handed.
	j.pending, j.spans = j.spare[:0], j.spareSpans[:0]
	j.spare, j.spareSpans = nil, nil
	j.mu.Unlock()
	_, err := j.f.Write(buf)
	if err == nil && j.SyncEvery <= 0 {
		err = j.f.Sync()
	}
	j.mu.Lock()
	j.syncing = false
	if err != nil {
		j.syncErr = fmt.Errorf("%s: %w", j.path, err)
	} else {
		for _, p := range spans {
			j.put(p.key, p.failed, p.off)
			delete(j.queued, p.key)
		}
		if cap(buf) <= maxSpare {
			j.spare, j.spareSpans = buf, spans
		}
		j.synced = target
		if j.SyncEvery > 0 {
			j.dirty = true
			if j.timer == nil {
				j.timer = time.AfterFunc(j.SyncEvery, j.syncLater)
			}
		}
	}
	j.cond.Broadcast()
}

// syncLater syncs the lines written since the last sync, under SyncEvery.
// Appends go on meanwhile: a write beside an fsync is safe, and its line
// is left dirty for the next one.
func (j *Journal) syncLater() {
	j.mu.Lock()
	j.timer = nil
	if j.closed || !j.dirty {
		j.mu.Unlock()
		return
	}
	j.dirty, j.bgSync = false, true
	j.mu.Unlock()
	err := j.f.Sync()
	j.mu.Lock()
	j.bgSync = false
	if err != nil && j.syncErr == nil {
		j.syncErr = fmt.Errorf("%s: %w", j.path, err)
	}
	j.cond.Broadcast()
	j.mu.Unlock()
}

// Scan calls fn with every line written so far, in file order: failed
// records and records a later line superseded included.
func (j *Journal) Scan(fn func(line []byte) error) error {
	j.mu.Lock()
	end := j.end - int64(len(j.pending))
	j.mu.Unlock()
	f, err := os.Open(j.path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.LimitReader(f, end), 1<<20)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if ferr := fn(line); ferr != nil {
				return fmt.Errorf("%s: line %d: %w", j.path, n, ferr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Close syncs what is not yet synced and closes the file. Appends after
// Close fail.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.syncing || j.bgSync {
		j.cond.Wait()
	}
	if j.closed {
		return nil
	}
	j.closed = true
	if j.timer != nil {
		j.timer.Stop() // syncLater, should it run now, finds the journal closed
		j.timer = nil
	}
	err := j.syncErr
	if j.dirty && err == nil {
		if err = j.f.Sync(); err != nil {
			err = fmt.Errorf("%s: %w", j.path, err)
		}
	}
	return errors.Join(err, j.f.Close())
}
