package jsonscan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzValid holds Valid equal to encoding/json's Valid on any input.
func FuzzValid(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,false,null,-0.5e+10,"x\"\u00e9\n"],"c":{}}`, ` [ ] `, `"str"`, `-0`, `01`, `1.`, `.5`, `1e`, `-`,
		`{"a" 1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `"\x"`, `"\u12g4"`, "\"a\tb\"", "\"\xff\"", `tru`, `nulll`, `{}{}`,
		`{"a":"b"} x`, "\u00a0{}", "\n\r\t{}\n", strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000), `{"a":[{"b":[{"c":1e-7}]}]}`, ``, ` `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Errorf("Valid(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	line := []byte(`{"id":"psv-00000","image":null,"question":"What abnormality is visible in the brain on this MRI image? [item 0]","answer":"a nodule","question_type":"Visual Perception","modality":"MRI","main_topic":"brain","source":"PathVQA","med_terms":["brain","a nodule"],"rubric":[{"dim":"accuracy","score":1,"description":"The answer's accuracy about a nodule in the brain agrees with the reference answer \"a nodule\"."},{"dim":"grounding","score":1,"description":"The answer's grounding agrees."}]}`)
	for _, impl := range []struct {
		name  string
		valid func([]byte) bool
	}{{"jsonscan", Valid}, {"encoding-json", json.Valid}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if !impl.valid(line) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// checkDecoded fails t unless got and err are what encoding/json's Decoder
// with UseNumber makes of b.
func checkDecoded(t *testing.T, what string, b []byte, got any, err error) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var want any
	werr := dec.Decode(&want)
	if (err == nil) != (werr == nil) || err == nil && !reflect.DeepEqual(got, want) {
		t.Errorf("%s(%q) = %#v, %v; encoding/json: %#v, %v", what, b, got, err, want, werr)
	}
}

// FuzzDecoder decodes the lines of its input with one Decoder, which keeps
// the keys of one line for the next: each line decodes as encoding/json
// decodes it, whatever keys (escaped, invalid UTF-8, repeated) came before.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("{\"a\":1,\"b\":{\"a\":[2]}}\n{\"a\":\"x\",\"\\u0061\":3}\n{\"\\u0061\":4,\"a\\\\\":5}"))
	f.Add([]byte("{\"\xff\":1}\n{\"\xff\":2,\"\\ufffd\":3}\n[{\"dim\":\"a\"},{\"dim\":\"b\"}]"))
	f.Add([]byte(`{"\\n":1}` + "\n" + `{"\n":2}`)) // a key that decodes to backslash n, then one that decodes to a newline: keys are kept by their text, not their value
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			if Valid(line) {
				got, err := d.Decode(line)
				checkDecoded(t, "Decoder.Decode, after the lines before it,", line, got, err)
			}
		}
	})
}

// FuzzDecode holds Decode equal to encoding/json's Decoder with
// UseNumber on every valid input.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,false,null,-0.5e+10,"x\"\u00e9\n"],"c":{},"a":2}`, ` [ ] `, `"str"`, `-0`,
		"\"\xff\\u12ab\\ud800\"", `{"a":[{"b":[{"c":1e-7}]}],"":{"":[]}}`, ` { "k" : [ 1 , 2 ] } `, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if Valid(b) {
			got, err := Decode(b)
			checkDecoded(t, "Decode", b, got, err)
		}
	})
}
