package dataset

import "github.com/psveval/psveval/eval/jsonscan"

// DecodeObjectForTest exposes the JSONL line decoder to the fuzz test.
func DecodeObjectForTest(b []byte) (map[string]any, error) {
	var dec jsonscan.Decoder
	rec, err := decodeObject(&dec, b)
	return rec, err
}
