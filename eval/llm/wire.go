package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	openai "github.com/sashabaranov/go-openai"

	"github.com/psveval/psveval/eval/jsonscan"
)

// The wire format of the requests psveval sends and the completions it
// reads, written and read without reflection. go-openai encodes a request
// through encoding/json twice (each message has its own MarshalJSON, whose
// output is compacted again) and decodes the whole response type; at a few
// thousand requests a second that was a third of a run's CPU. Requests
// that use a field this file does not know go through go-openai instead,
// so nothing is ever dropped: the fast path covers what psveval itself
// sends, and a test checks that its bodies mean what go-openai's mean.

// encoded is a parameter written into every request body.
type encoded struct {
	key  string
	json []byte
}

// encodeParams marshals params once, in sorted key order.
func encodeParams(params map[string]any) ([]encoded, error) {
	out := make([]encoded, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v, err := json.Marshal(params[k])
		if err != nil {
			return nil, fmt.Errorf("llm: parameter %s: %w", k, err)
		}
		out = append(out, encoded{k, v})
	}
	return out, nil
}

// encodeRequest writes req as a chat completion request body with params
// after its own members (a member req sets wins over a parameter), as
// [MergeParams] would. It reports false when req uses a field it does not
// write, for go-openai to encode instead, or breaks go-openai's rules.
func encodeRequest(req *openai.ChatCompletionRequest, params []encoded) ([]byte, bool) {
	if !fastRequest(req) {
		return nil, false
	}
	// The body's size, guessed from above so that it is allocated once:
	// escapes (newlines, quotes) take an eighth of a text at most, most
	// often.
	size := 128 + len(req.Model)
	for _, m := range req.Messages {
		size += len(m.Content) + len(m.Content)/8 + 32
		for _, p := range m.MultiContent {
			size += len(p.Text) + len(p.Text)/8 + 48
			if p.ImageURL != nil {
				size += len(p.ImageURL.URL)
			}
		}
	}
	if f := req.ResponseFormat; f != nil && f.JSONSchema != nil {
		if raw, ok := f.JSONSchema.Schema.(json.RawMessage); ok {
			size += len(raw) + len(f.JSONSchema.Name) + len(f.JSONSchema.Description) + 64
		}
	}
	for _, p := range params {
		size += len(p.key) + len(p.json) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, `{"model":`...)
	b = jsonscan.AppendString(b, req.Model, false)
	if req.Messages == nil {
		b = append(b, `,"messages":null`...)
	} else {
		b = append(b, `,"messages":[`...)
	}
	for i, m := range req.Messages {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":`...)
		b = jsonscan.AppendString(b, m.Role, false)
		switch {
		case len(m.MultiContent) > 0:
			b = append(b, `,"content":[`...)
			for k, p := range m.MultiContent {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendPart(b, p)
			}
			b = append(b, ']')
		case m.Content != "":
			b = append(b, `,"content":`...)
			b = jsonscan.AppendString(b, m.Content, false)
		}
		if m.Name != "" {
			b = append(b, `,"name":`...)
			b = jsonscan.AppendString(b, m.Name, false)
		}
		b = append(b, '}')
	}
	if req.Messages != nil {
		b = append(b, ']')
	}
	//lint:ignore SA1019 vLLM and llama-server read max_tokens, not max_completion_tokens (OpenAI o1's name), so psveval sends max_tokens on purpose
	if req.MaxTokens != 0 {
		b = append(b, `,"max_tokens":`...)
		//lint:ignore SA1019 vLLM and llama-server read max_tokens, not max_completion_tokens (OpenAI o1's name), so psveval sends max_tokens on purpose
		b = strconv.AppendInt(b, int64(req.MaxTokens), 10)
	}
	b = append(b, `,"stream":false`...)
	if f := req.ResponseFormat; f != nil {
		b = append(b, `,"response_format":{`...)
		sep := false
		if f.Type != "" {
			b = append(b, `"type":`...)
			b = jsonscan.AppendString(b, string(f.Type), false)
			sep = true
		}
		if s := f.JSONSchema; s != nil {
			if sep {
				b = append(b, ',')
			}
			b = append(b, `"json_schema":{"name":`...)
			b = jsonscan.AppendString(b, s.Name, false)
			if s.Description != "" {
				b = append(b, `,"description":`...)
				b = jsonscan.AppendString(b, s.Description, false)
			}
			b = append(b, `,"schema":`...)
			schema, err := marshalSchema(s.Schema)
			if err != nil {
				return nil, false
			}
			b = append(b, schema...)
			b = append(b, `,"strict":`...)
			b = strconv.AppendBool(b, s.Strict)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	for _, p := range params {
		switch {
		case p.key == "model", p.key == "messages", p.key == "stream",
			//lint:ignore SA1019 vLLM and llama-server read max_tokens, not max_completion_tokens (OpenAI o1's name), so psveval sends max_tokens on purpose
			p.key == "max_tokens" && req.MaxTokens != 0, p.key == "response_format" && req.ResponseFormat != nil:
			continue // the request's own member
		}
		b = append(b, ',')
		b = jsonscan.AppendString(b, p.key, false)
		b = append(b, ':')
		b = append(b, p.json...)
	}
	return append(b, '}'), true
}

// marshalSchema returns a response format's schema as JSON. A
// json.RawMessage, as the judges build it, is checked and written as it
// is; any other json.Marshaler goes through encoding/json.
func marshalSchema(s json.Marshaler) ([]byte, error) {
	if raw, ok := s.(json.RawMessage); ok && raw != nil {
		if !validSchema(raw) {
			return nil, errors.New("llm: response format schema is not valid JSON")
		}
		return raw, nil
	}
	if s == nil || reflect.ValueOf(s).Kind() == reflect.Pointer && reflect.ValueOf(s).IsNil() {
		return []byte("null"), nil
	}
	return json.Marshal(s)
}

// validSchemas remembers schemas found valid: a judge sends the same few
// (one per rubric shape) with every request, and checking 1.5 KB of JSON
// costs more than looking it up. It holds at most maxValidSchemas. A plain
// map, not a sync.Map, so that a lookup by string(raw) does not allocate.
var (
	validSchemasMu  sync.RWMutex
	validSchemas    = map[string]struct{}{}
	maxValidSchemas = 1024
)

func validSchema(raw []byte) bool {
	validSchemasMu.RLock()
	_, ok := validSchemas[string(raw)]
	validSchemasMu.RUnlock()
	if ok {
		return true
	}
	if !jsonscan.Valid(raw) {
		return false
	}
	validSchemasMu.Lock()
	if len(validSchemas) < maxValidSchemas {
		validSchemas[string(raw)] = struct{}{}
	}
	validSchemasMu.Unlock()
	return true
}

// fastRequest reports whether encodeRequest writes every field req sets.
// Fields are checked by reflection, so that a field a later go-openai
// adds sends the request down go-openai's path, not silently dropped.
func fastRequest(req *openai.ChatCompletionRequest) bool {
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Content != "" && m.MultiContent != nil {
			return false // go-openai refuses it: let it say so
		}
		if !othersZero(reflect.ValueOf(m).Elem(), messageFields) {
			return false
		}
		for _, p := range m.MultiContent {
			if p.ImageURL != nil && *p.ImageURL == (openai.ChatMessageImageURL{}) {
				return false // an empty image_url object: rare enough to leave to go-openai
			}
		}
	}
	if f := req.ResponseFormat; f != nil && f.JSONSchema != nil && f.JSONSchema.Schema == nil {
		return false
	}
	return othersZero(reflect.ValueOf(req).Elem(), requestFields)
}

// The fields encodeRequest writes, by index, of a request and a message.
var (
	requestFields = fieldSet(reflect.TypeFor[openai.ChatCompletionRequest](), "Model", "Messages", "MaxTokens", "ResponseFormat")
	messageFields = fieldSet(reflect.TypeFor[openai.ChatCompletionMessage](), "Role", "Content", "MultiContent", "Name")
)

func fieldSet(t reflect.Type, names ...string) []bool {
	known := make([]bool, t.NumField())
	for _, n := range names {
		f, ok := t.FieldByName(n)
		if !ok || len(f.Index) != 1 {
			panic("llm: go-openai's " + t.Name() + " has no field " + n)
		}
		known[f.Index[0]] = true
	}
	return known
}

// othersZero reports whether every field of the struct v not in known is
// zero.
func othersZero(v reflect.Value, known []bool) bool {
	for i, k := range known {
		if !k && !v.Field(i).IsZero() {
			return false
		}
	}
	return true
}

func appendPart(b []byte, p openai.ChatMessagePart) []byte {
	b = append(b, '{')
	sep := false
	field := func(name string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, name...)
	}
	if p.Type != "" {
		field(`"type":`)
		b = jsonscan.AppendString(b, string(p.Type), false)
	}
	if p.Text != "" {
		field(`"text":`)
		b = jsonscan.AppendString(b, p.Text, false)
	}
	if u := p.ImageURL; u != nil {
		field(`"image_url":{`)
		if u.URL != "" {
			b = append(b, `"url":`...)
			b = jsonscan.AppendString(b, u.URL, false)
		}
		if u.Detail != "" {
			if u.URL != "" {
				b = append(b, ',')
			}
			b = append(b, `"detail":`...)
			b = jsonscan.AppendString(b, string(u.Detail), false)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// errNotCompletion wraps what makes a 2xx body unreadable as a completion.
var errNotCompletion = errors.New("the response is not a chat completion")

// decodeCompletion reads the members of a chat completion that psveval
// uses: id, object, created, model, system_fingerprint, choices (index,
// message role, content, refusal, reasoning_content, tool_calls,
// finish_reason) and usage's token counts. It reads the same values
// json.Unmarshal would into openai.ChatCompletionResponse.
func decodeCompletion(data []byte) (openai.ChatCompletionResponse, error) {
	var r openai.ChatCompletionResponse
	if !jsonscan.Valid(data) {
		return r, fmt.Errorf("%w: malformed JSON: %s", errNotCompletion, Clip(string(data), 200))
	}
	err := jsonscan.Fields(data, func([]byte) bool { return true }, func(k, raw []byte) error {
		var err error
		switch canon(k, completionKeys) {
		case "id":
			err = setString(&r.ID, raw)
		case "object":
			err = setString(&r.Object, raw)
		case "created":
			err = integer(raw, &r.Created)
		case "model":
			err = setString(&r.Model, raw)
		case "system_fingerprint":
			err = setString(&r.SystemFingerprint, raw)
		case "choices":
			r.Choices = r.Choices[:0]
			if string(raw) == "null" {
				r.Choices = nil
			}
			err = jsonscan.Array(raw, func(el []byte) error {
				c, err := decodeChoice(el)
				r.Choices = append(r.Choices, c)
				return err
			})
		case "usage":
			err = decodeUsage(raw, &r.Usage)
		}
		if err != nil {
			return fmt.Errorf("%q: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return openai.ChatCompletionResponse{}, fmt.Errorf("%w: %w", errNotCompletion, err)
	}
	return r, nil
}

func decodeChoice(raw []byte) (openai.ChatCompletionChoice, error) {
	var c openai.ChatCompletionChoice
	if string(raw) == "null" {
		return c, nil
	}
	err := jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
		var err error
		switch canon(k, choiceKeys) {
		case "index":
			err = integer(v, &c.Index)
		case "finish_reason":
			var s string
			err = setString(&s, v)
			c.FinishReason = openai.FinishReason(s)
		case "message":
			err = decodeMessage(v, &c.Message)
		}
		return err
	})
	return c, err
}

func decodeMessage(raw []byte, m *openai.ChatCompletionMessage) error {
	if string(raw) == "null" {
		return nil
	}
	return jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
		var err error
		switch canon(k, messageKeys) {
		case "role":
			err = setString(&m.Role, v)
		case "content":
			err = setString(&m.Content, v)
		case "refusal":
			err = setString(&m.Refusal, v)
		case "reasoning_content":
			err = setString(&m.ReasoningContent, v)
		case "name":
			err = setString(&m.Name, v)
		case "tool_call_id":
			err = setString(&m.ToolCallID, v)
		case "tool_calls":
			m.ToolCalls = nil
			err = json.Unmarshal(v, &m.ToolCalls)
		case "function_call":
			m.FunctionCall = nil
			err = json.Unmarshal(v, &m.FunctionCall)
		}
		return err
	})
}

// detail reads the count named key out of a usage details object.
func detail(raw []byte, key string, n *int) error {
	return jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
		if canon(k, []string{key}) != "" {
			return integer(v, n)
		}
		return nil
	})
}

// decodeUsage reads usage's token counts, with the cached prompt tokens
// in either dialect: prompt_tokens_details.cached_tokens (OpenAI, vLLM,
// llama-server) or DeepSeek's prompt_cache_hit_tokens, which lands in
// PromptTokensDetails when the reply has no such details; and
// completion_tokens_details.reasoning_tokens.
func decodeUsage(raw []byte, u *openai.Usage) error {
	if string(raw) == "null" {
		return nil
	}
	hit, hasHit := 0, false
	err := jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
		switch canon(k, usageKeys) {
		case "prompt_tokens":
			return integer(v, &u.PromptTokens)
		case "completion_tokens":
			return integer(v, &u.CompletionTokens)
		case "total_tokens":
			return integer(v, &u.TotalTokens)
		case "prompt_cache_hit_tokens":
			hasHit = true
			return integer(v, &hit)
		case "prompt_tokens_details":
			if string(v) == "null" {
				return nil
			}
			u.PromptTokensDetails = &openai.PromptTokensDetails{}
			return detail(v, "cached_tokens", &u.PromptTokensDetails.CachedTokens)
		case "completion_tokens_details":
			if string(v) == "null" {
				return nil
			}
			u.CompletionTokensDetails = &openai.CompletionTokensDetails{}
			return detail(v, "reasoning_tokens", &u.CompletionTokensDetails.ReasoningTokens)
		}
		return nil
	})
	if err == nil && hasHit && u.PromptTokensDetails == nil {
		u.PromptTokensDetails = &openai.PromptTokensDetails{CachedTokens: hit}
	}
	return err
}

// Tokens are one call's token counts as the provider bills them: every
// 2xx reply it sent, blank ones that were asked again included.
type Tokens struct {
	Prompt, Completion, Cached, Reasoning int64
}

// TokensOf reads the billed counts of one reply's usage.
func TokensOf(u openai.Usage) Tokens {
	t := Tokens{Prompt: int64(u.PromptTokens), Completion: int64(u.CompletionTokens)}
	if d := u.PromptTokensDetails; d != nil {
		t.Cached = int64(d.CachedTokens)
	}
	if d := u.CompletionTokensDetails; d != nil {
		t.Reasoning = int64(d.ReasoningTokens)
	}
	return t
}

// Add adds t2 to t.
func (t *Tokens) Add(t2 Tokens) {
	t.Prompt += t2.Prompt
	t.Completion += t2.Completion
	t.Cached += t2.Cached
	t.Reasoning += t2.Reasoning
}

// The members decodeCompletion reads, at each level.
var (
	completionKeys = []string{"id", "object", "created", "model", "system_fingerprint", "choices", "usage"}
	choiceKeys     = []string{"index", "finish_reason", "message"}
	messageKeys    = []string{"role", "content", "refusal", "reasoning_content", "name", "tool_call_id", "tool_calls", "function_call"}
	usageKeys      = []string{"prompt_tokens", "completion_tokens", "total_tokens", "prompt_cache_hit_tokens", "prompt_tokens_details", "completion_tokens_details"}
)

// canon returns the name in names that the JSON key k stands for, or "":
// as encoding/json matches keys to fields, an exact match or else one
// equal under Unicode case folding.
func canon(k []byte, names []string) string {
	for _, n := range names {
		if string(k) == n {
			return n
		}
	}
	for _, n := range names {
		if bytes.EqualFold(k, []byte(n)) {
			return n
		}
	}
	return ""
}

// setString decodes the JSON string raw into *dst; null leaves *dst as it
// is, as encoding/json does (a later duplicate key that is null does not
// clear an earlier value).
func setString(dst *string, raw []byte) error {
	if string(raw) == "null" {
		return nil
	}
	s, err := jsonscan.String(raw)
	if err == nil {
		*dst = s
	}
	return err
}

// integer decodes a JSON integer into *n; null leaves it.
func integer[T int | int64](raw []byte, n *T) error {
	if v, err := strconv.ParseInt(string(raw), 10, 64); err == nil && int64(T(v)) == v {
		*n = T(v)
		return nil
	}
	return json.Unmarshal(raw, n)
}

// ApplyParams writes key=value settings over defaults and returns the
// result, leaving defaults as they were. A value is read as JSON when it
// parses (numbers, true, objects), else as a string; key=null removes the
// key.
func ApplyParams(defaults map[string]any, kv []string) map[string]any {
	out := maps.Clone(defaults)
	if out == nil {
		out = map[string]any{}
	}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if v == "null" {
			delete(out, k)
			continue
		}
		var x any
		if err := json.Unmarshal([]byte(v), &x); err == nil {
			out[k] = x
		} else {
			out[k] = v
		}
	}
	return out
}
