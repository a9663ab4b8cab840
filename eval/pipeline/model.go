package pipeline

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
)

// An LLMModel is the model under test behind an OpenAI-compatible
// endpoint. It sends one user message per item: the item's images as
// image_url parts holding base64 data URIs (MIME type sniffed from the
// bytes), then the question, with an optional suffix; and, before it, an
// optional system prompt. Sampling parameters are the client's.
//
// An LLMModel is safe for concurrent use.
type LLMModel struct {
	Client *llm.Client
	// Model is the model name to request.
	Model string
	// System is an optional system prompt.
	System string
	// Suffix, when set, follows the question after a newline ("Please
	// answer the question concisely.").
	Suffix string
}

// Messages returns the messages sent for it.
func (m *LLMModel) Messages(it eval.Item) ([]openai.ChatCompletionMessage, error) {
	return m.messages(it, func(prefix string, b []byte) string {
		var uri strings.Builder
		uri.Grow(len(prefix) + base64.StdEncoding.EncodedLen(len(b)))
		uri.WriteString(prefix)
		enc := base64.NewEncoder(base64.StdEncoding, &uri)
		enc.Write(b)
		enc.Close()
		return uri.String()
	})
}

// messages builds the request's messages; image returns the URL that
// stands for an image: its data URI, prefix then the bytes in base64 (or,
// for a request, the client's placeholder for it).
func (m *LLMModel) messages(it eval.Item, image func(prefix string, b []byte) string) ([]openai.ChatCompletionMessage, error) {
	var msgs []openai.ChatCompletionMessage
	if m.System != "" {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleSystem, Content: m.System})
	}
	text := it.Question
	if m.Suffix != "" {
		text += "\n" + m.Suffix
	}
	if len(it.Images) == 0 {
		return append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: text}), nil
	}
	parts := make([]openai.ChatMessagePart, 0, len(it.Images)+1)
	for i := range it.Images {
		im := &it.Images[i]
		b, err := im.Data()
		if err != nil {
			return nil, &ImageError{err}
		}
		parts = append(parts, openai.ChatMessagePart{
			Type:     openai.ChatMessagePartTypeImageURL,
			ImageURL: &openai.ChatMessageImageURL{URL: image("data:"+im.MIME+";base64,", b)},
		})
	}
	parts = append(parts, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeText, Text: text})
	return append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, MultiContent: parts}), nil
}

// Answer asks the model to answer it. A completion that stays blank
// after the client's retries is an error ([ErrBlank]).
func (m *LLMModel) Answer(ctx context.Context, it eval.Item) (eval.Answer, error) {
	// Images travel as blobs: the transport writes their bytes in base64
	// straight into the body, so no 100 KB data URI is built as a string,
	// scanned or JSON-encoded.
	var blobs []string
	defer func() {
		for _, b := range blobs {
			m.Client.Drop(b)
		}
	}()
	msgs, err := m.messages(it, func(prefix string, b []byte) string {
		p := m.Client.BlobBase64(prefix, b)
		blobs = append(blobs, p)
		return p
	})
	if err != nil {
		return eval.Answer{}, err
	}
	resp, err := m.Client.Chat(ctx, openai.ChatCompletionRequest{Model: m.Model, Messages: msgs})
	a := eval.Answer{Latency: resp.Latency, Model: resp.Model,
		Usage: eval.Usage(resp.Billed)}
	a.Calls.Request(resp.Attempts)
	if err != nil {
		return a, overflowed(err, it)
	}
	c := resp.Choices[0]
	a.Text, a.FinishReason = c.Message.Content, string(c.FinishReason)
	if strings.TrimSpace(a.Text) == "" {
		return a, ErrBlank
	}
	return a, nil
}

// GreedyParams returns the sampling parameters every request to a model
// under test carries, so that decoding is greedy whatever the server's
// defaults: temperature 0, top_p 1, the seed and max_tokens, and vLLM's
// top_k -1 and repetition_penalty 1.0, which otherwise come from the
// model's generation_config.json. (go-openai drops temperature 0; the
// llm.Transport writes these into the body itself.)
func GreedyParams(maxTokens, seed int) map[string]any {
	return map[string]any{
		"temperature": 0, "top_p": 1, "seed": seed, "max_tokens": maxTokens,
		"top_k": -1, "repetition_penalty": 1.0,
	}
}

// JudgeParams returns a judge's default sampling parameters: temperature
// 0, top_p 1 and max_tokens.
func JudgeParams(maxTokens int) map[string]any {
	return map[string]any{"temperature": 0, "top_p": 1, "max_tokens": maxTokens}
}

// A ContextError is a request the server refused as longer than its
// context, with how much of it the item's images take: a context sized
// for text is often too small for an image's tokens.
type ContextError struct {
	Err                      error
	Images, ImageTokens, All int
}

func (e *ContextError) Error() string {
	return fmt.Sprintf("%v (the item's %s take about %d of its ~%d prompt tokens, at Qwen2.5-VL's 28×28 patches: give the server a larger context, e.g. llama-server -c, or smaller images)",
		e.Err, eval.Nouns(e.Images, "image"), e.ImageTokens, e.All)
}
func (e *ContextError) Unwrap() error { return e.Err }

// overflowed adds to an error about the context what the item's images
// take of it; other errors, and items without images, pass unchanged.
func overflowed(err error, it eval.Item) error {
	ce, ok := errors.AsType[contextExceeder](err)
	if !ok || !ce.ContextExceeded() || len(it.Images) == 0 {
		return err
	}
	img := 0
	for _, im := range it.Images {
		img += qwenImageTokens(im.Width, im.Height)
	}
	return &ContextError{Err: err, Images: len(it.Images), ImageTokens: img, All: img + len(it.Question)/4 + 8}
}
