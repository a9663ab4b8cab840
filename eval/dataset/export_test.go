package dataset

// DecodeObjectForTest exposes the JSONL line decoder to the fuzz test.
func DecodeObjectForTest(b []byte) (map[string]any, error) {
	rec, err := decodeObject(b)
	return rec, err
}
