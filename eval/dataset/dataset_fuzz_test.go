package dataset_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
)

// checkWalk opens and walks the file at path and checks the properties
// every reader must keep: no panic, every error an *InputError naming the
// file, and every item yielded complete.
func checkWalk(t *testing.T, path string) {
	ds, err := dataset.Open(path, dataset.Options{MaxImageBytes: 1 << 20})
	if err == nil {
		for it, werr := range ds.All() {
			if werr != nil {
				err = werr
				break
			}
			if it.ID == "" || strings.TrimSpace(it.Question) == "" || strings.TrimSpace(it.Reference) == "" || len(it.Rubric) == 0 {
				t.Fatalf("incomplete item yielded: %+v", it)
			}
		}
	}
	if err == nil {
		return
	}
	var ie *eval.InputError
	if !errors.As(err, &ie) || ie.File != path {
		t.Fatalf("error %v (%T) is not an *eval.InputError naming %s", err, err, path)
	}
}

func FuzzReadJSONL(f *testing.F) {
	for _, seed := range []string{
		`{"id":"a","question":"q","answer":"x"}`,
		`{"id":1,"question":"q","answer":2,"question_type":"visual_perception"}` + "\n" + `{"id":1,"question":"q","answer":"x"}`,
		`{"id":"a","question":"q","answer":"x","rubric":[{"dim":"d","score":1,"description":"x"}]}`,
		`{"id":"a","question":"q","answer":"x","image":"data:image/png;base64,iVBORw0KGgo="}`,
		`{"id":"a","question":"q","answer":"x","image":{"bytes":"/9j/4AAQ"}}`,
		`{"id":"a","question":"q","answer":"x","image":"../../etc/passwd"}`,
		`{"id":"a","question":["q"],"answer":"x"}`,
		`{"id":"a","question":"q","answer":"x","med_terms":["a",1]}`,
		"[]\n{}", "{\"id\":", "\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.jsonl")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		checkWalk(t, path)
	})
}

func FuzzReadParquet(f *testing.F) {
	fixture, err := os.ReadFile("../../testdata/psv-mini.parquet")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Add(fixture[:len(fixture)-1])
	f.Add(append(append([]byte{}, fixture[:4]...), fixture[len(fixture)-3000:]...))
	mid := append([]byte{}, fixture...)
	for i := 50000; i < 51000; i++ {
		mid[i] = 0
	}
	f.Add(mid)
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		checkWalk(t, path)
	})
}

// FuzzDecodeObject checks the JSONL line decoder against encoding/json:
// both accept the same lines, and decode them to the same values.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[1,2,{"c":"d\"e"}],"e":{"f":null,"g":true},"h":-1.5e3}`,
		`{"a":"\u00e9\n","b":[],"c":{}}`, `{"a":[1,]}`, `{"a":01}`, `{"a":"x"} x`, `{"a":tru}`, `{}`, `[]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got, gotErr := dataset.DecodeObjectForTest([]byte(line))
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var want map[string]any
		wantErr := dec.Decode(&want)
		if wantErr == nil {
			if _, err := dec.Token(); err != io.EOF {
				wantErr = errors.New("trailing data")
			}
		}
		if wantErr == nil && want == nil {
			wantErr = errors.New("null")
		}
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("decodeObject(%q): err %v, encoding/json: %v", line, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(map[string]any(got), want) {
			t.Fatalf("decodeObject(%q) = %#v, encoding/json: %#v", line, got, want)
		}
	})
}
