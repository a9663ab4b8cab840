package jsonscan

import (
	"reflect"
	"strings"
	"testing"
)

// checkDecodeValid checks decodeValid against decodeTokens on s: where
// the fast path decodes, it decodes the same value over the same bytes.
func checkDecodeValid(t *testing.T, s string) {
	t.Helper()
	v, n, ok := decodeValid(s)
	if !ok {
		return
	}
	w, m, wok := decodeTokens(s)
	if !wok || n != m || !reflect.DeepEqual(v, w) {
		t.Errorf("decodeValid(%q) = %#v, %d; decodeTokens = %#v, %d, %v", s, v, n, w, m, wok)
	}
}

func FuzzDecodeValid(f *testing.F) {
	for _, s := range []string{
		`{"criteria":[{"dim":"accuracy","met":true,"explanation":"ok"}]} trailing`,
		`{"a":1,"a":2.5e3,"b":[null,false,"x\"y",{}],"c\u00e9":"\ud83e\udec1"}`,
		`[1, 2,]`, `"str"`, `-0.5`, `{"k": {"k": [[[]]]}}`, `{"bad": 01}`, `{"x":"` + "\xff" + `"}`,
	} {
		f.Add(s)
	}
	for _, n := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1} {
		f.Add(strings.Repeat("[", n) + "1" + strings.Repeat("]", n))
		f.Add(strings.Repeat(`{"a":`, n) + "{}" + strings.Repeat("}", n))
	}
	f.Fuzz(checkDecodeValid)
}

func TestDecodeValidStopsAtMaxDepth(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2)
	if _, _, ok := decodeValid(deep); ok {
		t.Errorf("decodeValid decoded %d levels, past MaxDepth %d", MaxDepth+2, MaxDepth)
	}
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	checkDecodeValid(t, ok)
}
