package lines

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/psveval/psveval/eval"
)

// FuzzAppendResult holds AppendResult equal to the json.Encoder
// results.jsonl was written with (SetEscapeHTML(false)), byte for byte,
// whatever the strings and numbers and whichever members are set.
func FuzzAppendResult(f *testing.F) {
	f.Add("psv-1", "A <b>nodule</b> & \"mass\"", "stop", "Visual Perception", 0.6, int64(12), uint16(0))
	f.Add("\xff\u2028", "x\n", "", "", 1e-7, int64(-3), uint16(0xffff))
	f.Add("", "", "", "", 1e21, int64(0), uint16(0x5555))
	f.Add("a", "b", "c", "d", math.NaN(), int64(1), uint16(0x0004))
	f.Fuzz(func(t *testing.T, id, text, s1, s2 string, score float64, n int64, bits uint16) {
		on := func(i uint) bool { return bits&(1<<i) != 0 }
		yes, no := true, false
		r := eval.Result{ID: id, QuestionType: s2, Question: text, Reference: s1, Answer: text, FinishReason: s1,
			Status: s2, LatencyMS: n, JudgeLatencyMS: -n,
			Usage: eval.ResultUsage{Model: eval.Usage{Prompt: n, Completion: 2 * n}, Judge: eval.Usage{Cached: n, Reasoning: n / 2}}}
		if on(0) {
			r.Criteria = []eval.ResultCriterion{{Dim: s1, Points: n, Met: &yes, Explanation: text}, {Dim: id, Points: -1}, {Dim: "x", Met: &no}}
		}
		if on(1) {
			r.Criteria = []eval.ResultCriterion{}
		}
		if on(2) {
			r.Score = &score
		}
		if on(3) {
			r.AllMet = &no
		}
		if on(4) {
			r.Error, r.ErrorKind, r.Unscorable = text, s1, s2
		}
		if on(5) {
			r.Judges = []eval.JudgeVote{{Judge: s1, Met: []*bool{&yes, nil, &no}, Error: text}, {Judge: s2}}
		}
		if on(6) {
			r.Judges = []eval.JudgeVote{}
		}
		if on(7) {
			r.JudgeServed, r.Cluster = s1, text
		}
		if on(8) {
			r.Meta = map[string]string{s1: text, "<z>": id, "a": s2}
		}
		if on(9) {
			r.Meta = map[string]string{}
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		werr := enc.Encode(&r)
		got, ok := AppendResult(nil, &r)
		if ok != (werr == nil) || ok && string(got) != want.String() {
			t.Errorf("AppendResult = %v\n%s\njson.Encoder = %v\n%s", ok, got, werr, want.String())
		}
	})
}
