package rundir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/psveval/psveval/eval"
)

// Verdicts are a run's per-criterion verdicts: item id, then criterion
// label, then met (nil: unscorable), with the items in file order.
type Verdicts struct {
	Items []string
	Met   map[string]map[string]*bool
}

// ReadVerdicts reads the verdicts of the run in dir from results.jsonl.
// Items that errored have no verdicts.
func ReadVerdicts(dir string) (*Verdicts, error) {
	v := &Verdicts{Met: map[string]map[string]*bool{}}
	err := ReadResults(filepath.Join(dir, ResultsFile), func(r eval.Result) error {
		if r.Status == eval.StatusError {
			return nil
		}
		m := make(map[string]*bool, len(r.Criteria))
		for _, c := range r.Criteria {
			m[c.Dim] = c.Met
		}
		v.Items = append(v.Items, r.ID)
		v.Met[r.ID] = m
		return nil
	})
	return v, err
}

// A Label is a person's verdict on one criterion of one item, a line of a
// labels file: {"id": "...", "dim": "...", "met": true}.
type Label struct {
	ID  string `json:"id"`
	Dim string `json:"dim"`
	Met *bool  `json:"met"`
}

// ReadLabels reads a labels file. A line that is not such an object, or
// a second label for the same item and criterion, is an *eval.InputError
// naming the file and line.
func ReadLabels(path string) ([]Label, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), eval.MaxLineBytes)
	var out []Label
	seen := map[[2]string]int{}
	for n := 1; sc.Scan(); n++ {
		b := sc.Bytes()
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var l Label
		pos := fmt.Sprintf("line %d", n)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, &eval.InputError{File: path, Pos: pos, Err: fmt.Errorf("want {\"id\": \"...\", \"dim\": \"...\", \"met\": true|false}: %v", err)}
		}
		switch {
		case l.ID == "":
			return nil, &eval.InputError{File: path, Pos: pos, Err: errors.New(`no "id"`)}
		case l.Dim == "":
			return nil, &eval.InputError{File: path, Pos: pos, ID: l.ID, Err: errors.New(`no "dim": name the criterion as results.jsonl does`)}
		case l.Met == nil:
			return nil, &eval.InputError{File: path, Pos: pos, ID: l.ID, Err: errors.New(`no "met": true or false`)}
		}
		k := [2]string{l.ID, l.Dim}
		if prev, dup := seen[k]; dup {
			return nil, &eval.InputError{File: path, Pos: pos, ID: l.ID, Err: fmt.Errorf("criterion %q is labelled twice (line %d too)", l.Dim, prev)}
		}
		seen[k] = n
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	if len(out) == 0 {
		return nil, &eval.InputError{File: path, Err: errors.New("no labels")}
	}
	return out, nil
}
