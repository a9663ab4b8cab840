package rundir

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
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
	sc.Buffer(make([]byte, 0, 1<<16), dataset.MaxLineBytes)
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
