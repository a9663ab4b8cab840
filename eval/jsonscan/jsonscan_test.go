package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// checkString checks String against encoding/json on raw: the same
// string, or an error from both.
func checkString(t *testing.T, raw []byte) {
	t.Helper()
	var want string
	werr := json.Unmarshal(raw, &want)
	got, err := String(raw)
	switch {
	case werr == nil && err != nil:
		t.Errorf("String(%q): %v; encoding/json reads %q", raw, err, want)
	case werr == nil && got != want:
		t.Errorf("String(%q) = %q, encoding/json reads %q", raw, got, want)
	case werr != nil && err == nil && string(raw) != "null":
		t.Errorf("String(%q) = %q, encoding/json refuses it: %v", raw, got, werr)
	}
}

var stringCases = []string{
	`"plain"`, `""`, `null`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u20ac\uD83E\uDEC1"`, `"lone \ud800 high"`,
	`"lone \udc00 low"`, `"\ud800\ud800 two highs"`, `"\uD83E\u0041"`, `"caf` + "\xc3\xa9" + `"`, "\"bad \xff utf-8 \xe2\x82\"",
	"\"raw \x01 control\"", `"bad \x escape"`, `"\u12"`, `"\u12G4"`, `"unterminated`, `"a"b"`, `"abcdefgh"ijklmnop"`, `"abcdefghijkl\mnop"`, "\"abcdefgh\x01ijklmnop\"", `"trailing \"`, `"\u0000"`,
	// escaped strings about the size of unquote's stack buffer, and past it
	`"` + strings.Repeat(`x\"`, 170) + `"`, `"` + strings.Repeat(`x\"`, 171) + `"`, `"` + strings.Repeat("\xff\\n", 200) + `"`,
	`"` + strings.Repeat(`\u00e9 says \"met\" `, 60) + `"`,
}

func TestStringReadsWhatEncodingJSONReads(t *testing.T) {
	for _, c := range stringCases {
		checkString(t, []byte(c))
	}
}

func FuzzString(f *testing.F) {
	for _, c := range stringCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkString(t, raw) })
}

func TestArray(t *testing.T) {
	var got []string
	err := Array([]byte(` [ 1 , "a,]" , {"b":[2]} , null ] `), func(raw []byte) error {
		got = append(got, string(raw))
		return nil
	})
	want := []string{`1`, `"a,]"`, `{"b":[2]}`, `null`}
	if err != nil || len(got) != len(want) {
		t.Fatalf("Array = %q, %v; want %q", got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("element %d = %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{`[1,`, `{}`, `[1 2]`, ``} {
		if err := Array([]byte(bad), func([]byte) error { return nil }); err == nil {
			t.Errorf("Array(%q) = nil error", bad)
		}
	}
	if err := Array([]byte(`null`), func([]byte) error { t.Error("null has no elements"); return nil }); err != nil {
		t.Error(err)
	}
}

// checkAppendString checks AppendString against encoding/json's bytes,
// with and without HTML escaping.
func checkAppendString(t *testing.T, s string) {
	t.Helper()
	want, _ := json.Marshal(s)
	if got := AppendString(nil, s, true); string(got) != string(want) {
		t.Errorf("AppendString(%q, html) = %s, json.Marshal writes %s", s, got, want)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	if got := AppendString(nil, s, false); string(got)+"\n" != buf.String() {
		t.Errorf("AppendString(%q) = %s, an Encoder without HTML escaping writes %s", s, got, buf.String())
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"plain", "", "<b>&amp;</b> \"q\" \\ \n\t\b\f\r\x00\x1f\x7f", "\u2028\u2029 café 肺 🫁", "bad \xff\xfe, cut \xe2\x82"} {
		f.Add(s)
	}
	f.Fuzz(checkAppendString)
}
