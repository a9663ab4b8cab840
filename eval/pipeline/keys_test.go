package pipeline_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/rubric"
)

// Judgment keys name journal lines and cache entries across versions: a
// change to their bytes would make every resume and cache lookup miss.
// This is the format they were defined with.
func judgmentKeyByFormat(judgeFP string, it *eval.Item, answer string) string {
	h := sha256.New()
	for _, s := range []string{"judgment", judgeFP, it.Question, it.Reference, string(it.RubricJSON()), answer} {
		fmt.Fprintf(h, "%d:%s\x00", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestJudgmentKeyIsStable(t *testing.T) {
	it := eval.Item{ID: "x", Question: "Is the <mass> in the left lung? 肺", Reference: "yes & no",
		Rubric: []rubric.Criterion{{Dim: "accuracy", Points: 1, Description: "States \"yes\"."}}}
	long := []rubric.Criterion{}
	for i := range 40 {
		long = append(long, rubric.Criterion{Dim: fmt.Sprint("d", i), Points: int64(i - 3), Description: "<b>Names</b> the organ & its side."})
	}
	for _, rub := range [][]rubric.Criterion{it.Rubric, nil, {}, long} {
		it := it
		it.Rubric = rub
		for _, answer := range []string{"", "yes", "a\x00b\nc 🫁"} {
			if got, want := pipeline.JudgmentKey("fp", &it, answer), judgmentKeyByFormat("fp", &it, answer); got != want {
				t.Errorf("JudgmentKey(%q) with %d criteria = %s, the format gives %s", answer, len(rub), got, want)
			}
		}
	}
	// The key of version 1, written down: RubricJSON's bytes are part of
	// it too.
	if got, want := pipeline.JudgmentKey("fp", &it, "yes"), "8b39129f5048ee706fbc7bc50cd397c909889298f5cf04762034e5d6fd21f6f6"; got != want {
		t.Errorf("JudgmentKey = %s, want the pinned %s", got, want)
	}
}

// Answer keys name answers.jsonl lines across versions; these values
// were written down from the fmt-based format the key was defined with.
func TestAnswerKeyIsStable(t *testing.T) {
	it := eval.Item{ID: "x", Question: "Is the <mass> in the left lung? 肺", Images: []eval.Image{{SHA256: "abc"}, {SHA256: "def"}}}
	if got, want := pipeline.AnswerKey("model-id", &it), "3b3eafbd87658c6d0c162df72c6dc5010c93013fd9c08cfb1c1a8bc2c03d3614"; got != want {
		t.Errorf("AnswerKey with images = %s, want the pinned %s", got, want)
	}
	it.Images = nil
	if got, want := pipeline.AnswerKey("", &it), "d6624ea7ab8e209972650f302049f6e2ff7b8eb60ed3a50e736b39f84b5a3954"; got != want {
		t.Errorf("AnswerKey = %s, want the pinned %s", got, want)
	}
}
