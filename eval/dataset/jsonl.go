package dataset

import (
	"maps"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
)

// schemaLines is how many JSONL records are read to learn the columns.
const schemaLines = 100

type jsonlSource struct {
	path string
	cols []Column
}

func openJSONL(path string) (*jsonlSource, error) {
	s := &jsonlSource{path: path}
	seen := map[string]bool{}
	n := 0
	for pr, err := range s.records(false) {
		if err != nil {
			return nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(pr.rec)) {
			if !seen[k] {
				seen[k] = true
				s.cols = append(s.cols, Column{Name: k})
			}
		}
		for i, c := range s.cols {
			if c.Type == "" || c.Type == "null" {
				s.cols[i].Type = jsonShape(pr.rec[c.Name])
			}
		}
		if n++; n == schemaLines {
			break
		}
	}
	if n == 0 {
		return nil, &eval.InputError{File: path, Err: errors.New("no JSON lines: the file holds only blank lines")}
	}
	return s, nil
}

func (s *jsonlSource) columns() []Column { return s.cols }
func (s *jsonlSource) rawBytes() bool    { return false }

// records yields one record per non-blank line. A line that is not a JSON
// object is an error naming the line. With parallel, lines are read here
// and decoded by GOMAXPROCS workers a batch at a time, then yielded in
// order: decoding is most of a dataset walk, and the fingerprint's walk
// before a run has the machine to itself.
func (s *jsonlSource) records(parallel bool) iter.Seq2[posRecord, error] {
	return func(yield func(posRecord, error) bool) {
		f, err := os.Open(s.path)
		if err != nil {
			yield(posRecord{}, &eval.InputError{File: s.path, Err: err})
			return
		}
		defer f.Close()
		if !parallel {
			s.readLines(f, func(b *lineBatch) bool {
				if b.err == nil {
					b.decode(s.path)
				}
				for _, pr := range b.recs {
					if !yield(pr, nil) {
						return false
					}
				}
				if b.err != nil {
					yield(posRecord{}, b.err)
					return false
				}
				return true
			})
			return
		}
		workers := runtime.GOMAXPROCS(0)
		batches := make(chan *lineBatch, workers)
		ordered := make(chan *lineBatch, 2*workers)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for b := range batches {
					b.decode(s.path)
					close(b.done)
				}
			})
		}
		wg.Go(func() { // the reader
			defer close(batches)
			defer close(ordered)
			s.readLines(f, func(b *lineBatch) bool {
				select {
				case ordered <- b:
				case <-stop:
					return false
				}
				if b.err == nil {
					select {
					case batches <- b:
					case <-stop:
						return false
					}
				} else {
					close(b.done) // a read error ends the walk: nothing to decode
				}
				return true
			})
		})
		defer wg.Wait()
		defer close(stop)
		for b := range ordered {
			<-b.done
			for _, pr := range b.recs {
				if !yield(pr, nil) {
					return
				}
			}
			if b.err != nil {
				yield(posRecord{}, b.err)
				return
			}
		}
	}
}

// A lineBatch is consecutive lines of a JSONL file and, once done is
// closed, their records, up to the first bad line's error.
type lineBatch struct {
	buf  []byte // the lines' bytes
	ends []int  // where each line ends in buf
	nums []int  // each line's number
	recs []posRecord
	err  error
	done chan struct{}
}

// batchLines and batchBytes bound a batch: large enough to keep a worker
// busy, small enough that lines holding inline images stay few in memory.
const (
	batchLines = 256
	batchBytes = 1 << 20
)

// batchBufs holds batches' byte buffers for reuse: a batch's lines are
// copied out as they are decoded, so its buffer is free once decoded. A
// buffer that grew past twice batchBytes (a line with a large inline
// image) is left to the collector.
var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func newLineBatch() *lineBatch {
	return &lineBatch{buf: (*batchBufs.Get().(*[]byte))[:0], done: make(chan struct{})}
}

// release hands the batch's buffer back for reuse.
func (b *lineBatch) release() {
	if cap(b.buf) <= 2*batchBytes {
		buf := b.buf[:0]
		batchBufs.Put(&buf)
	}
	b.buf = nil
}

// readLines reads f's non-blank lines into batches and hands each to
// send, stopping when send returns false. A read error comes as a batch
// of its own, with err set.
func (s *jsonlSource) readLines(f *os.File, send func(*lineBatch) bool) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), eval.MaxLineBytes)
	line := 0
	b := newLineBatch()
	for sc.Scan() {
		line++
		t := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			// Editors on Windows start UTF-8 files with a byte-order mark.
			t = bytes.TrimPrefix(t, []byte("\xef\xbb\xbf"))
		}
		if len(t) == 0 {
			continue
		}
		b.buf = append(b.buf, t...)
		b.ends = append(b.ends, len(b.buf))
		b.nums = append(b.nums, line)
		if len(b.ends) == batchLines || len(b.buf) >= batchBytes {
			if !send(b) {
				return
			}
			b = newLineBatch()
		}
	}
	if len(b.ends) > 0 {
		if !send(b) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d MiB", eval.MaxLineBytes>>20)
		}
		send(&lineBatch{err: &eval.InputError{File: s.path, Pos: fmt.Sprintf("line %d", line+1), Err: err}, done: make(chan struct{})})
	}
}

// decode decodes the batch's lines, stopping at the first bad one.
func (b *lineBatch) decode(path string) {
	b.recs = make([]posRecord, 0, len(b.ends))
	var dec jsonscan.Decoder // the lines share their keys
	start := 0
	for i, end := range b.ends {
		pos := "line " + strconv.Itoa(b.nums[i])
		rec, err := decodeObject(&dec, b.buf[start:end])
		if err != nil {
			b.err = &eval.InputError{File: path, Pos: pos, Err: err}
			break
		}
		b.recs = append(b.recs, posRecord{pos: pos, num: b.nums[i], rec: rec})
		start = end
	}
	b.release()
	b.ends, b.nums = nil, nil
}

// decodeObject decodes one JSONL line into the values encoding/json's
// UseNumber would give, with jsonscan's validator and one-pass decoder:
// no reflection. A line that is not one JSON object is an error.
func decodeObject(dec *jsonscan.Decoder, b []byte) (record, error) {
	if !jsonscan.Valid(b) {
		// Its validator is held equal to encoding/json's, which words
		// the error.
		var v any
		return nil, fmt.Errorf("not a JSON object: %w", json.Unmarshal(b, &v))
	}
	v, err := dec.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	rec, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object: the line holds %s", jsonShape(v))
	}
	return rec, nil
}

// jsonShape describes a JSON value in the terms of shapeOf; for display
// only, since JSONL values are checked line by line.
func jsonShape(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return "float"
		}
		return "int"
	case []any:
		if len(x) == 0 {
			return "list<null>"
		}
		return "list<" + jsonShape(x[0]) + ">"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, k+":"+jsonShape(x[k]))
		}
		return "struct{" + strings.Join(parts, ",") + "}"
	}
	return "unknown"
}
