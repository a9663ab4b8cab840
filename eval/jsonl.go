package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
)

// MaxLineBytes bounds one JSONL line (base64 images make lines long).
const MaxLineBytes = 64 << 20

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
	for pr, err := range s.records() {
		if err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(pr.rec) {
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
		return nil, &InputError{File: path, Err: errors.New("no JSON lines: the file holds only blank lines")}
	}
	return s, nil
}

func (s *jsonlSource) columns() []Column { return s.cols }
func (s *jsonlSource) rawBytes() bool    { return false }

// records yields one record per non-blank line. A line that is not a JSON
// object is an error naming the line.
func (s *jsonlSource) records() iter.Seq2[posRecord, error] {
	return func(yield func(posRecord, error) bool) {
		f, err := os.Open(s.path)
		if err != nil {
			yield(posRecord{}, &InputError{File: s.path, Err: err})
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), MaxLineBytes)
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			pos := fmt.Sprintf("line %d", line)
			rec, err := decodeObject(b)
			if err != nil {
				yield(posRecord{}, &InputError{File: s.path, Pos: pos, Err: err})
				return
			}
			if !yield(posRecord{pos: pos, rec: rec}, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("line longer than %d MiB", MaxLineBytes>>20)
			}
			yield(posRecord{}, &InputError{File: s.path, Pos: fmt.Sprintf("line %d", line+1), Err: err})
		}
	}
}

func decodeObject(b []byte) (record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var rec record
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if rec == nil {
		return nil, errors.New("not a JSON object: null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON object: text after the object")
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
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+":"+jsonShape(x[k]))
		}
		return "struct{" + strings.Join(parts, ",") + "}"
	}
	return "unknown"
}
