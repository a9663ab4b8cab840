package lines

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
)

// FuzzReadRecord checks the journal record reader against encoding/json:
// on a line shaped as psveval writes journal records (each top-level key
// once, spelled exactly), whatever it reads is what encoding/json reads.
// encoding/json also folds key case and merges a repeated key into the
// first, which psveval's own lines never need.
func FuzzReadRecord(f *testing.F) {
	f.Add(`{"key":"k","calls":{"requests":2,"retries":1},"judge":"j","error":"","cached":true,"answer":"long text"}`)
	f.Add(`{"calls":null,"judge":"a\"b","cached":false}`)
	f.Add(`{"error":"boom","calls":{"requests":1}}`)
	f.Add(`{"calls":{"requests":2},"calls":{"retries":1},"CACHED":true}`)
	// past readCalls' fast path: folded or unknown keys, signs, fractions,
	// numbers past int64, nulls
	f.Add(`{"calls":{"Requests":3,"retries":-1,"x":2},"cached":null}`)
	f.Add(`{"calls":{"requests":1.0,"failed":1e1}}`)
	f.Add(`{"calls":{"requests":123456789012345678901,"repairs":null}}`)
	f.Add(`{"calls":{"length_retries":4,"repairs":0,"failed":2},"cached":false}`)
	f.Fuzz(func(t *testing.T, s string) {
		var calls eval.CallCounts
		var judge, errMsg string
		var cached bool
		err := ReadRecord([]byte(s), &calls, &judge, &errMsg, &cached) // must not panic
		var want struct {
			Calls  eval.CallCounts `json:"calls"`
			Judge  string          `json:"judge"`
			Error  string          `json:"error"`
			Cached bool            `json:"cached"`
		}
		if err != nil || !ownShape([]byte(s)) || json.Unmarshal([]byte(s), &want) != nil {
			return
		}
		if calls != want.Calls || judge != want.Judge || errMsg != want.Error || cached != want.Cached {
			t.Errorf("ReadRecord(%s) = %+v %q %q %v, encoding/json %+v", s, calls, judge, errMsg, cached, want)
		}
	})
}

// ownShape reports whether b is an object whose top-level keys are each
// given once, and, where they fold to a key the reader knows, spelled as
// it is.
func ownShape(b []byte) bool {
	seen := map[string]bool{}
	ok := true
	err := jsonscan.Fields(b, func([]byte) bool { return true }, func(k, _ []byte) error {
		key := string(k)
		for _, known := range []string{"calls", "judge", "error", "cached"} {
			if strings.EqualFold(key, known) && key != known {
				ok = false
			}
		}
		if seen[strings.ToLower(key)] {
			ok = false
		}
		seen[strings.ToLower(key)] = true
		return nil
	})
	return ok && err == nil
}
