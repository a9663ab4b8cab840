package rundir

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/psveval/psveval/eval"
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
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), eval.MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var res eval.Result
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			return &eval.InputError{File: name, Pos: fmt.Sprintf("line %d", line), Err: fmt.Errorf("not a result: %w", err)}
		}
		if res.ID == "" {
			return &eval.InputError{File: name, Pos: fmt.Sprintf("line %d", line), Err: errors.New("result has no id")}
		}
		if err := fn(res); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &eval.InputError{File: name, Pos: fmt.Sprintf("line %d", line+1), Err: err}
	}
	return nil
}

// ResultEncoder returns the encoder results.jsonl is written with: one
// JSON object a line, with <, > and & as they are.
func ResultEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// WriteResults writes results as dir's results.jsonl, atomically.
func WriteResults(dir string, results []eval.Result) error {
	return store.WriteFileFunc(filepath.Join(dir, ResultsFile), func(w io.Writer) error {
		enc := ResultEncoder(w)
		for i := range results {
			if err := enc.Encode(&results[i]); err != nil {
				return err
			}
		}
		return nil
	})
}
