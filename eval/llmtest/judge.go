package llmtest

import (
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	openai "github.com/sashabaranov/go-openai"
)

var criterionLine = regexp.MustCompile(`(?m)^\{"dim":.*\}$`)

// judge replies as the judge, DeepSeek-shaped.
func (h *Handler) judge(w http.ResponseWriter, r *http.Request, body []byte, req *openai.ChatCompletionRequest, rng *rand.Rand, f Faults) {
	user := firstUser(req.Messages)
	q, ref, ans := section(user, "question"), section(user, "reference_answer"), section(user, "model_answer")
	var dims []string
	for _, line := range criterionLine.FindAllString(section(user, "criteria"), -1) {
		var c struct{ Dim string }
		if json.Unmarshal([]byte(line), &c) == nil {
			dims = append(dims, c.Dim)
		}
	}
	type verdict struct {
		Dim         string `json:"dim"`
		Met         bool   `json:"met"`
		Explanation string `json:"explanation"`
	}
	out := struct {
		Criteria []verdict `json:"criteria"`
	}{Criteria: []verdict{}}
	p := 0.2
	if Matches(ans, ref) {
		p = 0.92
	}
	// Judges other than the default one vote with their own coin, so
	// several judges can disagree.
	who := strings.TrimPrefix(req.Model, h.cfg.JudgeModel)
	nth := ""
	if h.cfg.JudgeFlip > 0 {
		// The judgment is its question, reference, answer and criteria:
		// two items may share the first three under different rubrics.
		c, _ := h.asked.LoadOrStore(who+"\x00"+q+"\x00"+ref+"\x00"+ans+"\x00"+section(user, "criteria"), new(atomic.Int64))
		nth = strconv.FormatInt(c.(*atomic.Int64).Add(1), 10)
	}
	for k, d := range dims {
		met := unit(h.cfg.Seed, "met"+who, q, ref, ans, d) < p
		if k == 0 && !met && unit(h.cfg.Seed, "first"+who, q, ref, ans, d) < h.cfg.FirstBias {
			met = true // a judge that favours what it reads first
		}
		if h.cfg.JudgeFlip > 0 && unit(h.cfg.Seed, "flip"+who, q, ref, ans, d, nth) < h.cfg.JudgeFlip {
			met = !met
		}
		why := "The answer does not satisfy this criterion."
		if met {
			why = "The answer satisfies this criterion."
		}
		out.Criteria = append(out.Criteria, verdict{d, met, why})
	}
	b, _ := json.Marshal(out)
	content := string(b)
	reasoning := ""
	switch u := rng.Float64(); {
	case u < f.Blank:
		content = ""
	case u < f.Blank+f.Malformed:
		content = content[:len(content)/2]
	case u < f.Blank+f.Malformed+f.Think:
		content = "<think>Let me check each criterion against the reference.</think>\n" + content
	}
	if h.cfg.Echo {
		content += h.echo(r, body)
	}
	prompt := tokens(req.Messages[0].Content) + tokens(user)
	completion := tokens(content) + 1
	fingerprint := "fp_fake_1"
	if h.cfg.DriftAfter > 0 && h.Requests("judge") > h.cfg.DriftAfter {
		fingerprint = "fp_fake_2"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "fake-judge-1", "object": "chat.completion", "created": 1767225600, "model": cmp.Or(h.cfg.JudgeServed, req.Model), "system_fingerprint": fingerprint,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content, "reasoning_content": reasoning},
			"finish_reason": "stop",
		}},
		"usage": h.usage("judge", prompt, completion, tokens(req.Messages[0].Content)),
	})
}

// Matches is the fake judge's notion of a right answer: equal to the
// reference after dropping case, punctuation and surrounding space.
func Matches(answer, reference string) bool {
	norm := func(s string) string {
		return strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".!?, ")
	}
	return norm(answer) == norm(reference)
}
