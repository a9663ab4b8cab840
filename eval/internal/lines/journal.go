package lines

import (
	"encoding/json"
	"fmt"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
)

// ReadRecord reads the members of a journal record that the run's call
// counts add up,
// walking past the rest (answers and explanations) without decoding it.
// The journal checked every line when it was opened or appended.
func ReadRecord(b []byte, calls *eval.CallCounts, judge, errMsg *string, cached *bool) error {
	err := jsonscan.Fields(b, func(k []byte) bool {
		switch string(k) {
		case "calls", "judge", "error", "cached":
			return true
		}
		return false
	}, func(k, raw []byte) error {
		var err error
		switch string(k) {
		case "calls":
			*calls = eval.CallCounts{}
			err = json.Unmarshal(raw, calls)
		case "judge":
			*judge, err = jsonscan.String(raw)
		case "error":
			*errMsg, err = jsonscan.String(raw)
		case "cached":
			err = json.Unmarshal(raw, cached)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("not a journal record: %w", err)
	}
	return nil
}
