package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/psveval/psveval/eval"
)

// FuzzRecordJSON holds the journal records' hand-written JSON equal to
// encoding/json's, byte for byte, whatever the strings hold (invalid
// UTF-8, HTML, U+2028, quotes) and whichever optional members are set.
func FuzzRecordJSON(f *testing.F) {
	f.Add("k1", "psv-1", "A <b>nodule</b> & \"mass\"", "stop", "bench-vlm", "", "", int64(12), int64(0), uint8(0))
	f.Add("k2", "psv-2", "\xff\u2028x\n", "length", "m", "HTTP 500: boom", "server", int64(-1), int64(3), uint8(0xff))
	f.Add("", "", "", "", "", "", "", int64(0), int64(0), uint8(0x55))
	f.Fuzz(func(t *testing.T, key, item, text, s1, s2, errMsg, errKind string, n1, n2 int64, bits uint8) {
		on := func(i uint) bool { return bits&(1<<i) != 0 }
		a := AnswerRecord{Key: key, Item: item, Answer: eval.Answer{Text: text, FinishReason: s1, Model: s2,
			Usage: eval.Usage{Prompt: n1, Completion: n2, Cached: n1 / 3, Reasoning: n2 / 2},
			Calls: eval.CallCounts{Requests: n2, Retries: n1}}, LatencyMS: n1, Error: errMsg, ErrorKind: errKind}
		if on(0) {
			a.Calls.Repairs, a.Calls.LengthRetries, a.Calls.Failed = n1, n2, 1
		}
		check(t, &a, a.AppendJSON(nil))

		yes, no := true, false
		v := eval.Verdict{Raw: text, Model: s2, Usage: a.Usage, Calls: a.Calls}
		if on(1) {
			v.Criteria = []eval.CriterionVerdict{{Dim: s1, Met: &yes, Explanation: text}, {Dim: item, Met: nil}, {Dim: "x", Met: &no}}
		}
		if on(2) {
			v.Criteria = []eval.CriterionVerdict{}
		}
		if on(3) {
			v.Unscorable, v.Fingerprint = errMsg, s1
		}
		if on(4) {
			v.Order = []string{s1, s2, "a<b"}
		}
		j := JudgmentRecord{Key: key, Item: item, Judge: s2, Verdict: v, LatencyMS: n2, Error: errMsg, ErrorKind: errKind, Cached: on(5)}
		check(t, &j, j.AppendJSON(nil))
	})
}

func check(t *testing.T, rec any, got []byte) {
	t.Helper()
	want, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("AppendJSON =\n%s\njson.Marshal =\n%s", got, want)
	}
}
