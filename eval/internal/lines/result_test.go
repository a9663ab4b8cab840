package lines

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
)

// TestLiteDecoderMatchesJSON checks the skipping reader against
// encoding/json on lines with escapes, nulls and nested values.
func TestLiteDecoderMatchesJSON(t *testing.T) {
	t.Parallel()
	lines := []string{
		`{"id":"a\"b","question_type":"Visual Perception","question":"has \\\" and \\\\ and } ] {","answer":"x","criteria":[{"dim":"d1","points":1,"met":true,"explanation":"a \"quoted\" ]"},{"dim":"d2","points":-1,"met":null}],"score":0.5,"all_met":false,"status":"ok","usage":{"model":{"prompt_tokens":3,"completion_tokens":1},"judge":{"prompt_tokens":9,"completion_tokens":2}},"latency_ms":12,"meta":{"modality":"CT"}}`,
		` { "id" : "b" , "status" : "error" , "score" : null , "criteria" : [ ] , "judges" : [ {"judge":"j","met":[true,null]} ] } `,
		`{"id":"c","status":"unscored","unscorable":"x\\","criteria":null,"extra":{"deep":[1,{"a":"]"}]}}`,
	}
	for _, l := range lines {
		var fast eval.Result
		d := NewResultDecoder(true)
		if err := d.Decode(&fast, []byte(l)); err != nil {
			t.Fatalf("decode(%s): %v", l, err)
		}
		var slow eval.Result
		if err := json.Unmarshal([]byte(l), &slow); err != nil {
			t.Fatal(err)
		}
		// The long texts are what the reader skips.
		slow.Question, slow.Reference, slow.Answer, slow.Error, slow.LatencyMS, slow.JudgeLatencyMS = "", "", "", "", 0, 0
		for i := range slow.Criteria {
			slow.Criteria[i].Explanation = ""
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("decode(%s)\n= %+v\nwant %+v", l, fast, slow)
		}
	}
	for _, bad := range []string{`{"id":"a"`, `{"id":"a",}`, `["id"]`, `{"id":"a" "x":1}`, `{"id":"unterminated}`,
		`{"id":"a","question":[1}}`, `{"id":"a","x":tru}`, `{"id":"a","answer":"x","latency_ms":1e}`, `{"id":"a","meta":{"k":"v",}}`} {
		var r eval.Result
		d := NewResultDecoder(true)
		if err := d.Decode(&r, []byte(bad)); err == nil {
			t.Errorf("decode(%s) accepted malformed JSON", bad)
		}
	}
}

func FuzzLiteDecoder(f *testing.F) {
	f.Add(`{"id":"a","criteria":[{"dim":"d","points":1,"met":true}],"score":1,"status":"ok"}`)
	f.Add(`{"id":"a\\","question":"\"}"}`)
	f.Add(`{"id":"a","question":[1}}`)
	f.Add(`{"id":"a","x":tru}`)
	f.Fuzz(func(t *testing.T, s string) {
		var r eval.Result
		d := NewResultDecoder(true)
		err := d.Decode(&r, []byte(s)) // must not panic
		var slow eval.Result
		if err == nil && json.Unmarshal([]byte(s), &slow) != nil {
			t.Errorf("decode(%q) accepted what encoding/json refuses", s)
		}
	})
}

// BenchmarkDecodeResult weighs the skipping reader against encoding/json
// decoding only the fields reports use (a struct without the long
// texts), on a results.jsonl line of typical size (about 1.3 KB).
func BenchmarkDecodeResult(b *testing.B) {
	var line []byte
	{
		r := eval.Result{ID: "VP-00001", QuestionType: "Visual Perception", Question: strings.Repeat("What abnormality is visible in this image? ", 3),
			Reference: "a hypodense lesion", Answer: strings.Repeat("The image shows a hypodense lesion in the right lobe. ", 4), FinishReason: "stop", Status: "ok",
			Meta: map[string]string{"modality": "CT", "source": "SLAKE"}}
		for k := range 5 {
			met := k%2 == 0
			r.Criteria = append(r.Criteria, eval.ResultCriterion{Dim: fmt.Sprintf("d%d", k), Points: 1, Met: &met, Explanation: "The answer identifies the finding the reference names, in other words."})
		}
		score := 0.6
		r.Score = &score
		line, _ = json.Marshal(r)
	}
	b.Run("jsonscan", func(b *testing.B) {
		d := NewResultDecoder(false)
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			var r eval.Result
			if err := d.Decode(&r, line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		type crit struct {
			Dim    string `json:"dim"`
			Points int64  `json:"points"`
			Met    *bool  `json:"met"`
		}
		type lite struct {
			ID           string            `json:"id"`
			QuestionType string            `json:"question_type"`
			FinishReason string            `json:"finish_reason"`
			Criteria     []crit            `json:"criteria"`
			Score        *float64          `json:"score"`
			AllMet       *bool             `json:"all_met"`
			Status       string            `json:"status"`
			Unscorable   string            `json:"unscorable"`
			Usage        eval.ResultUsage  `json:"usage"`
			Judges       []eval.JudgeVote  `json:"judges"`
			Meta         map[string]string `json:"meta"`
		}
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			var r lite
			if err := json.Unmarshal(line, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
