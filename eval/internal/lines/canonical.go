package lines

import (
	"maps"
	"slices"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
	"github.com/psveval/psveval/rubric"
)

// AppendCanonical appends it.Canonical(), the form a dataset's fingerprint
// hashes, byte for byte, without reflection (eval, which owns the form,
// imports none of its sub-packages; FuzzAppendCanonical holds the two
// equal).
func AppendCanonical(b []byte, it *eval.Item) []byte {
	b = member(append(b, '{'), "id", it.ID, true)
	b = member(append(b, ','), "type", it.Type, true)
	b = member(append(b, ','), "question", it.Question, true)
	b = member(append(b, ','), "reference", it.Reference, true)
	b = append(b, `,"images":[`...)
	for i, im := range it.Images {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonscan.AppendString(b, im.SHA256, true)
	}
	b = rubric.AppendJSON(append(b, `],"rubric":`...), it.Rubric)
	b = appendStringMap(append(b, `,"meta":`...), it.Meta, true)
	b = appendList(append(b, `,"terms":`...), it.Terms, func(b []byte, s string) []byte { return jsonscan.AppendString(b, s, true) })
	return append(b, '}')
}

// appendStringMap appends m as a JSON object, its keys sorted, as
// encoding/json writes it; a nil map is null.
func appendStringMap(b []byte, m map[string]string, html bool) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonscan.AppendString(b, k, html)
		b = jsonscan.AppendString(append(b, ':'), m[k], html)
	}
	return append(b, '}')
}
