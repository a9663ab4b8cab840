package evaltest

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
)

// Result returns a scored result of an item of five one-point criteria, of
// which met are met (0 to 5): its score is met/5 under the points rule.
func Result(id, typ string, met int) eval.Result {
	r := eval.Result{ID: id, QuestionType: typ, Question: "Q " + id, Reference: "ref", Answer: "ans " + id,
		FinishReason: "stop", Status: eval.StatusOK, Meta: map[string]string{"modality": []string{"CT", "MRI"}[int(id[len(id)-1])%2]}}
	for k := range 5 {
		m := k < met
		r.Criteria = append(r.Criteria, eval.ResultCriterion{Dim: fmt.Sprintf("d%d", k+1), Points: 1, Met: &m})
	}
	score := float64(met) / 5
	all := met == 5
	r.Score, r.AllMet = &score, &all
	r.Usage = eval.ResultUsage{Model: eval.Usage{Prompt: 300, Completion: 20}, Judge: eval.Usage{Prompt: 900, Completion: 120}}
	return r
}

// TypeCount says how many items of a question type a synthetic run has,
// and how many fifths of a point they score in all.
type TypeCount struct {
	Type   string
	N      int
	Fifths int
}

// PaperResults builds results whose per-type accuracies are counts[i].Fifths
// / (5·N): Fifths/5 items fully met, one item holding the remainder, the
// rest scoring 0.
func PaperResults(counts []TypeCount) []eval.Result {
	var out []eval.Result
	for _, c := range counts {
		full, rest := c.Fifths/5, c.Fifths%5
		for i := range c.N {
			met := 0
			switch {
			case i < full:
				met = 5
			case i == full:
				met = rest
			}
			out = append(out, Result(fmt.Sprintf("%s-%05d", eval.QuestionTypeAbbrev[c.Type], i), c.Type, met))
		}
	}
	return out
}

// RandomResults builds n results per PSV2026 type, each criterion met with
// probability p, seeded.
func RandomResults(n int, p float64, seed uint64) []eval.Result {
	r := rand.New(rand.NewPCG(seed, 3))
	var out []eval.Result
	for _, typ := range eval.QuestionTypes {
		for i := range n {
			met := 0
			for range 5 {
				if r.Float64() < p {
					met++
				}
			}
			out = append(out, Result(fmt.Sprintf("%s-%05d", eval.QuestionTypeAbbrev[typ], i), typ, met))
		}
	}
	return out
}

// WriteRun writes a run directory holding results and a manifest naming
// model, as psveval run would leave it.
func WriteRun(dir, model string, results []eval.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := rundir.WriteResults(dir, results); err != nil {
		return err
	}
	m := rundir.Manifest{
		Created: "2026-11-25T00:00:00Z", Finished: "2026-11-25T00:10:00Z",
		Dataset: rundir.DatasetInfo{Path: "synthetic", Format: "jsonl", Fingerprint: "synthetic-fingerprint", Items: len(results),
			DefaultRubric: rundir.RubricInfo{Version: "psv-default-v1", SHA256: "synthetic-rubric"}},
		Model: rundir.EndpointInfo{URL: "http://localhost:8000/v1", Model: model, Params: map[string]any{"temperature": 0}},
		Judges: []rundir.JudgeInfo{{Name: "judge", Model: "judge", Mode: "joint", Format: "json_object", Fingerprint: "judge-fp",
			Prompt: rundir.PromptInfo{Name: "joint-v1", SHA256: "prompt-sha"}}},
		Scoring: rundir.ScoringInfo{Rule: "points"},
	}
	return rundir.WriteManifest(dir, &m)
}
