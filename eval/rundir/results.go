package rundir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/internal/lines"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
)

// ReadResults reads a results.jsonl file, calling fn for each result in
// order.
func ReadResults(path string, fn func(eval.Result) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readResults(f, path, fn)
}

func readResults(r io.Reader, name string, fn func(eval.Result) error) error {
	return readLines(r, name, func(line int, b []byte) error {
		var res eval.Result
		if err := json.Unmarshal(b, &res); err != nil {
			return &eval.InputError{File: name, Pos: fmt.Sprintf("line %d", line), Err: fmt.Errorf("not a result: %w", err)}
		}
		if res.ID == "" {
			return &eval.InputError{File: name, Pos: fmt.Sprintf("line %d", line), Err: errors.New("result has no id")}
		}
		return fn(res)
	})
}

// ReadResultLines calls fn with every line of a results.jsonl file as it
// is, for copying results without decoding them.
func ReadResultLines(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readLines(f, path, func(_ int, b []byte) error { return fn(b) })
}

// readLines calls fn with each non-empty line of r and its number.
func readLines(r io.Reader, name string, fn func(n int, b []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), eval.MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(line, sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &eval.InputError{File: name, Pos: fmt.Sprintf("line %d", line+1), Err: err}
	}
	return nil
}

// A ResultEncoder writes results.jsonl: one JSON object a line, with <,
// > and & as they are, byte for byte as a json.Encoder with
// SetEscapeHTML(false) writes eval.Result, without reflection (see
// lines.AppendResult). It is not safe for concurrent use.
type ResultEncoder struct {
	w   io.Writer
	buf []byte
}

// NewResultEncoder returns an encoder that writes to w.
func NewResultEncoder(w io.Writer) *ResultEncoder { return &ResultEncoder{w: w} }

// Encode writes r as one line.
func (e *ResultEncoder) Encode(r *eval.Result) error {
	b, ok := lines.AppendResult(e.buf[:0], r)
	if !ok { // a score JSON cannot hold: encoding/json words the error
		_, err := json.Marshal(r)
		return fmt.Errorf("result %q: %w", r.ID, err)
	}
	e.buf = b
	_, err := e.w.Write(b)
	return err
}

// WriteResults writes results as dir's results.jsonl, atomically.
func WriteResults(dir string, results []eval.Result) error {
	return store.WriteFileFunc(filepath.Join(dir, ResultsFile), func(w io.Writer) error {
		enc := NewResultEncoder(w)
		for i := range results {
			if err := enc.Encode(&results[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReadRunInfo returns what the run in dir recorded about itself in its
// summary.json (calls, cache savings, cost), which a summary recomputed
// from results.jsonl cannot know; nil when it has none.
func ReadRunInfo(dir string) *stats.RunInfo {
	var s stats.Summary
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil || json.Unmarshal(b, &s) != nil {
		return nil
	}
	return s.Run
}
