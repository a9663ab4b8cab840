package rubric

import (
	"strconv"

	"github.com/psveval/psveval/eval/jsonscan"
)

// AppendJSON appends cs as json.Marshal writes them, byte for byte: the
// form judgment keys and dataset fingerprints hash, so it must never
// drift (a test fuzzes it against encoding/json). A nil cs is "null".
// It is written by hand because every item's keys need it several times,
// and reflection made it a measurable share of a run's CPU.
func AppendJSON(b []byte, cs []Criterion) []byte {
	if cs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCriterion(b, c.Dim, c)
	}
	return append(b, ']')
}

// appendCriterion appends c as a JSON object with dim for its label.
func appendCriterion(b []byte, dim string, c Criterion) []byte {
	b = append(b, `{"dim":`...)
	b = jsonscan.AppendString(b, dim, true)
	b = append(b, `,"points":`...)
	b = strconv.AppendInt(b, c.Points, 10)
	b = append(b, `,"description":`...)
	b = jsonscan.AppendString(b, c.Description, true)
	return append(b, '}')
}
