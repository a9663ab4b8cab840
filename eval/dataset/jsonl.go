package dataset

import (
	"encoding/binary"
	"maps"
	"slices"
	"unicode/utf8"

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
	for pr, err := range s.records() {
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
// object is an error naming the line.
func (s *jsonlSource) records() iter.Seq2[posRecord, error] {
	return func(yield func(posRecord, error) bool) {
		f, err := os.Open(s.path)
		if err != nil {
			yield(posRecord{}, &eval.InputError{File: s.path, Err: err})
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), eval.MaxLineBytes)
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if line == 1 {
				// Editors on Windows start UTF-8 files with a byte-order mark.
				b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
			}
			if len(b) == 0 {
				continue
			}
			pos := fmt.Sprintf("line %d", line)
			rec, err := decodeObject(b)
			if err != nil {
				yield(posRecord{}, &eval.InputError{File: s.path, Pos: pos, Err: err})
				return
			}
			if !yield(posRecord{pos: pos, num: line, rec: rec}, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("line longer than %d MiB", eval.MaxLineBytes>>20)
			}
			yield(posRecord{}, &eval.InputError{File: s.path, Pos: fmt.Sprintf("line %d", line+1), Err: err})
		}
	}
}

// decodeObject decodes one JSONL line into the values encoding/json's
// UseNumber would give, walking it with jsonscan: strings without escapes,
// numbers (kept as json.Number), objects and arrays need no reflection.
// Everything is validated: a line that is not one JSON object is an error.
func decodeObject(b []byte) (record, error) {
	if !json.Valid(b) {
		// jsonscan skips what it need not decode; encoding/json's
		// validator makes sure no malformed value hides there.
		var v any
		return nil, fmt.Errorf("not a JSON object: %w", json.Unmarshal(b, &v))
	}
	rec := record{}
	end, err := jsonscan.Object(b, func([]byte) bool { return true }, func(k, raw []byte) error {
		key, err := jsonString(k)
		if err != nil {
			return err
		}
		v, err := jsonValue(raw)
		if err != nil {
			return fmt.Errorf("member %q: %w", key, err)
		}
		rec[key] = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if jsonscan.SkipSpace(b, end) < len(b) {
		return nil, errors.New("not a JSON object: text after the object")
	}
	return rec, nil
}

// jsonString decodes a JSON string's content (as found between quotes by
// jsonscan, or with its quotes). Plain strings (no escapes, no control
// characters, valid UTF-8), nearly all of them, are copied as they are;
// the rest are unescaped by jsonscan.String.
func jsonString(raw []byte) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		raw = append(append([]byte{'"'}, raw...), '"')
	}
	body := raw[1 : len(raw)-1]
	if plainASCII(body) || (!needsEscapeWork(body) && utf8.Valid(body)) {
		return string(body), nil
	}
	return jsonscan.String(raw)
}

// plainASCII reports whether b is printable ASCII without backslashes,
// eight bytes at a time.
func plainASCII(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		ctl := (x - 0x20*lo) & ^x & hi // a byte below 0x20
		bs := x ^ 0x5c*lo              // zero where a byte is '\\'
		back := (bs - lo) & ^bs & hi   // a zero byte
		if ctl|back|(x&hi) != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// needsEscapeWork reports whether b holds a backslash or a control
// character.
func needsEscapeWork(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return true
		}
	}
	return false
}

func jsonValue(raw []byte) (any, error) {
	switch c := raw[0]; {
	case c == '"':
		return jsonString(raw)
	case c == '-' || (c >= '0' && c <= '9'):
		if !json.Valid(raw) {
			return nil, fmt.Errorf("bad number %q", raw)
		}
		return json.Number(raw), nil
	case string(raw) == "true":
		return true, nil
	case string(raw) == "false":
		return false, nil
	case string(raw) == "null":
		return nil, nil
	case c == '{':
		m := map[string]any{}
		_, err := jsonscan.Object(raw, func([]byte) bool { return true }, func(k, v []byte) error {
			key, err := jsonString(k)
			if err != nil {
				return err
			}
			m[key], err = jsonValue(v)
			return err
		})
		return m, err
	case c == '[':
		return jsonArray(raw)
	}
	return nil, fmt.Errorf("bad value %q", raw)
}

// jsonArray decodes a JSON array with jsonValue, element by element.
func jsonArray(raw []byte) ([]any, error) {
	out := []any{}
	i := jsonscan.SkipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return out, nil
	}
	for {
		end, err := jsonscan.SkipValue(raw, i)
		if err != nil {
			return nil, err
		}
		v, err := jsonValue(raw[i:end])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		i = jsonscan.SkipSpace(raw, end)
		if i >= len(raw) {
			return nil, jsonscan.ErrSyntax
		}
		switch raw[i] {
		case ',':
			i = jsonscan.SkipSpace(raw, i+1)
		case ']':
			if jsonscan.SkipSpace(raw, i+1) != len(raw) {
				return nil, jsonscan.ErrSyntax
			}
			return out, nil
		default:
			return nil, jsonscan.ErrSyntax
		}
	}
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
