package llmtest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/psveval/psveval/eval/llm"
	openai "github.com/sashabaranov/go-openai"
)

func (h *Handler) echo(r *http.Request, body []byte) string {
	if !h.cfg.Echo {
		return ""
	}
	var b strings.Builder
	b.WriteString(" (echo: ")
	for k, v := range r.Header {
		fmt.Fprintf(&b, "%s: %s; ", k, strings.Join(v, ","))
	}
	b.WriteString("body: ")
	b.WriteString(llm.Clip(string(body), 2000))
	b.WriteString(")")
	return b.String()
}

// answer replies as the model under test.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, body []byte, req *openai.ChatCompletionRequest, rng *rand.Rand, f Faults) {
	q := lastText(req.Messages)
	text := h.answerFor(q)
	if h.cfg.Echo {
		text += h.echo(r, body)
	}
	if rng.Float64() < f.Blank {
		text = ""
	}
	images := 0
	for _, m := range req.Messages {
		for _, p := range m.MultiContent {
			if p.Type == openai.ChatMessagePartTypeImageURL {
				images++
			}
		}
	}
	if images > 0 && h.cfg.NoVision {
		writeError(w, http.StatusInternalServerError, "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj")
		return
	}
	prompt := tokens(q) + 256*images + 8
	completion := tokens(text) + 1
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1767225600, "model": h.served(req.Model),
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": text, "reasoning_content": nil, "tool_calls": []any{}},
			"logprobs":      nil,
			"finish_reason": "stop",
			"stop_reason":   nil,
		}},
		"usage": h.usage("model", prompt, completion, min(8, prompt)),
	})
}

// answerFor returns the fake model's answer to question.
func (h *Handler) answerFor(q string) string {
	ref, known := h.cfg.References[q]
	if i := strings.LastIndex(q, "\n"); !known && i > 0 {
		ref, known = h.cfg.References[q[:i]] // the question was given a suffix
	}
	u := unit(h.cfg.Seed, "correct", q)
	if known && u < h.cfg.CorrectRate {
		return ref
	}
	lower := strings.ToLower(strings.TrimSpace(ref))
	switch {
	case lower == "yes":
		return "No."
	case lower == "no":
		return "Yes."
	case !known:
		return []string{"Yes.", "No.", "The image shows no abnormality."}[int(unit(h.cfg.Seed, "generic", q)*3)]
	}
	wrong := []string{
		"The image shows no abnormality.",
		"It cannot be determined from this image.",
		"Normal tissue without pathological change.",
		"A benign cyst.",
	}
	return wrong[int(unit(h.cfg.Seed, "wrong", q)*float64(len(wrong)))]
}

// unit hashes its parts to a number in [0, 1).
func unit(seed uint64, parts ...string) float64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	sum := h.Sum(nil)
	return float64(binary.LittleEndian.Uint64(sum)>>11) / (1 << 53)
}

func tokens(s string) int { return int(math.Ceil(float64(len(s)) / 4)) }
