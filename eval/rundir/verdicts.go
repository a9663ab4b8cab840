package rundir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/psveval/psveval/eval"
)

// Verdicts are a run's per-criterion verdicts: item id, then criterion
// label, then met (nil: unscorable), with the items in file order.
type Verdicts struct {
	Items []string
	Met   map[string]map[string]*bool
	// Clusters holds each item's cluster key, where it has one.
	Clusters map[string]string
}

// OpenVerdicts checks that dir holds a run (an error wraps ErrNotRunDir
// where it does not) and reads its verdicts, as ReadVerdicts does.
func OpenVerdicts(dir string) (*Verdicts, error) {
	if _, err := Open(dir); err != nil {
		return nil, err
	}
	return ReadVerdicts(dir)
}

// ReadVerdicts reads the verdicts of the run in dir from results.jsonl.
// Items that errored have no verdicts.
func ReadVerdicts(dir string) (*Verdicts, error) {
	v := &Verdicts{Met: map[string]map[string]*bool{}, Clusters: map[string]string{}}
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
		if r.Cluster != "" {
			v.Clusters[r.ID] = r.Cluster
		}
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

// A LabelSet is a labels file read: the labels, and the record of the
// random draw they were made on when the file is a label sheet that
// `psveval audit --sample` wrote (nil otherwise).
type LabelSet struct {
	Path   string
	Labels []Label
	Sample *SampleRecord
	// Blank counts the sheet's criteria with "met": null, not labelled
	// yet.
	Blank int
}

// ReadLabels reads the labels of a labels file; see [ReadLabelSet].
func ReadLabels(path string) ([]Label, error) {
	ls, err := ReadLabelSet(path)
	if err != nil {
		return nil, err
	}
	return ls.Labels, nil
}

// ReadLabelSet reads a labels file: one JSON object a line, {"id", "dim",
// "met"}, where a label sheet may also give a criterion's "description",
// leave "met" null for a criterion not labelled yet, and start with the
// record of its draw, {"sample": {...}}. A line that is not such an
// object, or a second label for the same item and criterion, is an
// *eval.InputError naming the file and line.
func ReadLabelSet(path string) (*LabelSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), eval.MaxLineBytes)
	ls := &LabelSet{Path: path}
	seen := map[[2]string]int{}
	first := true
	for n := 1; sc.Scan(); n++ {
		b := sc.Bytes()
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		pos := fmt.Sprintf("line %d", n)
		if first && bytes.Contains(b, []byte(`"sample"`)) {
			first = false
			var rec struct {
				Sample *SampleRecord `json:"sample"`
			}
			if err := json.Unmarshal(b, &rec); err == nil && rec.Sample != nil {
				ls.Sample = rec.Sample
				continue
			} else if err != nil {
				return nil, &eval.InputError{File: path, Pos: pos, Err: fmt.Errorf("the sheet's draw record does not read: %v", err)}
			}
		}
		first = false
		l, blank, err := parseLabel(b)
		if err != nil {
			return nil, &eval.InputError{File: path, Pos: pos, Err: err}
		}
		switch {
		case l.ID == "":
			return nil, &eval.InputError{File: path, Pos: pos, Err: errors.New(`no "id"`)}
		case l.Dim == "":
			return nil, &eval.InputError{File: path, Pos: pos, ID: l.ID, Err: errors.New(`no "dim": name the criterion as results.jsonl does`)}
		case l.Met == nil && !blank:
			return nil, &eval.InputError{File: path, Pos: pos, ID: l.ID, Err: errors.New(`no "met": true or false`)}
		}
		k := [2]string{l.ID, l.Dim}
		if prev, dup := seen[k]; dup {
			return nil, &eval.InputError{File: path, Pos: pos, ID: l.ID, Err: fmt.Errorf("criterion %q is labelled twice (line %d too)", l.Dim, prev)}
		}
		seen[k] = n
		if blank {
			ls.Blank++
			continue
		}
		ls.Labels = append(ls.Labels, l)
	}
	if err := sc.Err(); err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	if len(ls.Labels) == 0 {
		if ls.Blank > 0 {
			return nil, &eval.InputError{File: path, Err: fmt.Errorf("no labels yet: every one of the sheet's %d criteria has \"met\": null (fill them in, or use the sheet's HTML page and its Export button)", ls.Blank)}
		}
		return nil, &eval.InputError{File: path, Err: errors.New("no labels")}
	}
	return ls, nil
}

// parseLabel reads one labels line, saying what is wrong in the terms of
// the format rather than of Go's types. blank is true for "met": null,
// a sheet's criterion not labelled yet.
func parseLabel(b []byte) (l Label, blank bool, err error) {
	const want = `want {"id": "...", "dim": "...", "met": true|false}`
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return Label{}, false, fmt.Errorf("not a JSON object: %s", want)
	}
	for k, v := range m {
		switch k {
		case "id", "dim":
			s, ok := v.(string)
			if !ok {
				return Label{}, false, fmt.Errorf("%q must be a string, got %s", k, jsonType(v))
			}
			if k == "id" {
				l.ID = s
			} else {
				l.Dim = s
			}
		case "met":
			if v == nil {
				blank = true
				continue
			}
			met, ok := v.(bool)
			if !ok {
				return Label{}, false, fmt.Errorf(`"met" must be true, false, or null (not labelled yet), got %s`, jsonType(v))
			}
			l.Met = &met
		case "description":
			if _, ok := v.(string); !ok {
				return Label{}, false, fmt.Errorf(`"description" must be a string, got %s`, jsonType(v))
			}
		case "sample":
			return Label{}, false, errors.New(`a draw record ({"sample": ...}) must be the file's first line`)
		default:
			return Label{}, false, fmt.Errorf("unknown key %q: %s", k, want)
		}
	}
	return l, blank, nil
}

// jsonType names a decoded JSON value for an error message.
func jsonType(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case nil:
		return "null"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprint(v)
}
