package llm

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// goOpenAIBody is the body go-openai would send for req through a
// Transport with params: its marshalling, then MergeParams.
func goOpenAIBody(t testing.TB, req openai.ChatCompletionRequest, params map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("go-openai marshalling: %v", err)
	}
	if b, err = MergeParams(b, params); err != nil {
		t.Fatal(err)
	}
	return b
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v in %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

var wireParams = map[string]any{
	"temperature": 0, "top_p": 1, "seed": 7, "max_tokens": 512, "top_k": -1, "repetition_penalty": 1.0,
	"thinking": map[string]any{"type": "disabled"}, "stop": nil,
}

func TestEncodeRequestMeansWhatGoOpenAISends(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"criteria":{"type":"array","prefixItems":[{"const":"a<b>&c"}]}}}`)
	image := &openai.ChatMessageImageURL{URL: "data:image/png;base64,iVBORw0KGgo="}
	for name, req := range map[string]openai.ChatCompletionRequest{
		"text": {Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "What is shown?"}}},
		"escapes and unicode": {Model: "lingshu/7B \"q\"", Messages: []openai.ChatCompletionMessage{
			{Role: "system", Content: "tab\there\nline \\ slash \x01\x1f <b>&amp;</b> \u2028\u2029 café 肺 🫁"},
			{Role: "user", Content: "bad \xff\xfe utf-8 \xe2\x82 cut", Name: "alice"},
		}},
		"empty content": {Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "assistant"}, {Role: "user", Content: "again"}}},
		"image and text": {Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: image},
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "data:image/jpeg;base64,/9j/", Detail: openai.ImageURLDetailHigh}},
			{Type: openai.ChatMessagePartTypeText, Text: "Which organ?\nAnswer briefly."},
		}}}},
		"max tokens overrides the parameter": {Model: "m", MaxTokens: 2048, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "x"}}},
		"json object": {Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "x"}},
			ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}},
		"json schema": {Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "x"}},
			ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
				JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: "rubric_verdict", Description: "d", Strict: true, Schema: schema}}},
		"no messages": {Model: "m"},
	} {
		t.Run(name, func(t *testing.T) {
			params, err := encodeParams(wireParams)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := encodeRequest(&req, params)
			if !ok {
				t.Fatal("encodeRequest left the request to go-openai")
			}
			if !json.Valid(got) {
				t.Fatalf("invalid JSON: %s", got)
			}
			if want := goOpenAIBody(t, req, wireParams); !sameJSON(t, got, want) {
				t.Errorf("encodeRequest wrote\n%s\ngo-openai and MergeParams write\n%s", got, want)
			}
		})
	}
}

// TestEncodeRequestAllocatesOnce: a judge's request, its prompts full of
// newlines and quotes and its schema sent with it, is written into one
// buffer sized in advance, not grown as it is written.
func TestEncodeRequestAllocatesOnce(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"criteria":{"type":"array","prefixItems":[` +
		strings.Repeat(`{"type":"object","properties":{"dim":{"type":"string","const":"Accuracy"},"met":{"type":"boolean"}}},`, 5) +
		`{}]}}}`)
	req := openai.ChatCompletionRequest{Model: "deepseek-v3.2", Messages: []openai.ChatCompletionMessage{
		{Role: "system", Content: strings.Repeat("Mark each criterion \"met\" or not.\n", 60)},
		{Role: "user", Content: strings.Repeat("Question: \"Which organ is shown?\"\nAnswer: the liver.\n", 20)},
	}, ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
		JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: "rubric_verdict", Strict: true, Schema: schema}}}
	params, err := encodeParams(wireParams)
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	if n := testing.AllocsPerRun(20, func() { body, _ = encodeRequest(&req, params) }); n != 1 {
		t.Errorf("encodeRequest made %v allocations, want 1 (len %d, cap %d)", n, len(body), cap(body))
	}
}

func FuzzEncodeRequest(f *testing.F) {
	f.Add("m", "You are a judge.", "What is <this>?\n\"x\"", "Answer.", true, 0)
	f.Add("", "", "\xff\x00\u2028", "", false, 100)
	f.Fuzz(func(t *testing.T, model, system, question, text string, image bool, maxTokens int) {
		//lint:ignore SA1019 vLLM and llama-server read max_tokens, not max_completion_tokens (OpenAI o1's name), so psveval sends max_tokens on purpose
		req := openai.ChatCompletionRequest{Model: model, MaxTokens: maxTokens}
		if system != "" {
			req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: "system", Content: system})
		}
		if image {
			req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: "user", MultiContent: []openai.ChatMessagePart{
				{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: text}},
				{Type: openai.ChatMessagePartTypeText, Text: question},
			}})
		} else {
			req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: "user", Content: question}, openai.ChatCompletionMessage{Role: "assistant", Content: text})
		}
		params, _ := encodeParams(wireParams)
		got, ok := encodeRequest(&req, params)
		if !ok {
			if image && text == "" {
				return // an empty image_url object is go-openai's to write
			}
			t.Fatal("encodeRequest left the request to go-openai")
		}
		if want := goOpenAIBody(t, req, wireParams); !sameJSON(t, got, want) {
			t.Errorf("encodeRequest wrote\n%s\ngo-openai and MergeParams write\n%s", got, want)
		}
	})
}

func TestEncodeRequestLeavesOtherFieldsToGoOpenAI(t *testing.T) {
	msgs := []openai.ChatCompletionMessage{{Role: "user", Content: "x"}}
	for name, req := range map[string]openai.ChatCompletionRequest{
		"temperature":           {Model: "m", Messages: msgs, Temperature: 0.7},
		"tools":                 {Model: "m", Messages: msgs, Tools: []openai.Tool{{Type: openai.ToolTypeFunction}}},
		"seed":                  {Model: "m", Messages: msgs, Seed: new(int)},
		"chat template kwargs":  {Model: "m", Messages: msgs, ChatTemplateKwargs: map[string]any{"enable_thinking": false}},
		"a message's tool call": {Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "assistant", ToolCalls: []openai.ToolCall{{ID: "1"}}}}},
		"content and parts":     {Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "x", MultiContent: []openai.ChatMessagePart{{Type: "text", Text: "y"}}}}},
	} {
		if _, ok := encodeRequest(&req, nil); ok {
			t.Errorf("%s: encodeRequest wrote a request with a field it does not know", name)
		}
	}
}

// completionFields are the members of a completion psveval reads.
func completionFields(r openai.ChatCompletionResponse) any {
	type choice struct {
		Index                                           int
		Role, Content, Refusal, Reasoning, Name, Finish string
		ToolCalls                                       []openai.ToolCall
	}
	var cs []choice
	for _, c := range r.Choices {
		m := c.Message
		cs = append(cs, choice{c.Index, m.Role, m.Content, m.Refusal, m.ReasoningContent, m.Name, string(c.FinishReason), m.ToolCalls})
	}
	return []any{r.ID, r.Object, r.Created, r.Model, r.SystemFingerprint, cs, r.Usage.PromptTokens, r.Usage.CompletionTokens, r.Usage.TotalTokens}
}

var completionBodies = []string{
	`{"id":"c1","object":"chat.completion","created":1764000000,"model":"lingshu","system_fingerprint":"fp_1","choices":[{"index":0,"message":{"role":"assistant","content":"The left lung."},"finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":5,"total_tokens":817}}`,
	` { "choices" : [ { "message" : { "content" : "esc \" \\ \n \u00e9 \ud83e\udec1 \u2028" , "reasoning_content" : null } , "finish_reason" : "length" } ] , "usage" : null } `,
	`{"choices":[{"index":1,"message":{"role":"assistant","content":null,"reasoning_content":"thinking...","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`,
	`{"model":"a","model":"b","choices":[],"usage":{"prompt_tokens":1,"prompt_tokens":2,"extra":{"x":[1,2]}},"unknown":[{"a":"]"}]}`,
	`{"choices":null,"created":0}`,
	"{\"choices\":[{\"message\":{\"content\":\"bad \xff utf-8\"}}]}",
	`{"choices":[null,{"message":null}],"usage":{"prompt_tokens":9007199254740993}}`,
	`{"choices":[{"message":{"refusal":"no","name":"n"}}]}`,
}

func TestDecodeCompletionReadsWhatUnmarshalReads(t *testing.T) {
	for _, body := range completionBodies {
		checkDecode(t, []byte(body), true)
	}
	for _, bad := range []string{``, `[]`, `{"choices":{}}`, `{"choices":[{"message":{"content":1}}]}`, `{"created":"soon"}`, `{"choices":[`} {
		if _, err := decodeCompletion([]byte(bad)); err == nil {
			t.Errorf("decodeCompletion(%q) = nil error", bad)
		}
	}
}

// checkDecode checks decodeCompletion against json.Unmarshal on body: a
// completion both read gives the same fields.
func checkDecode(t *testing.T, body []byte, mustRead bool) {
	t.Helper()
	var want openai.ChatCompletionResponse
	werr := json.Unmarshal(body, &want)
	got, err := decodeCompletion(body)
	switch {
	case err != nil && mustRead:
		t.Errorf("decodeCompletion(%s): %v", body, err)
	case err == nil && werr == nil && !reflect.DeepEqual(completionFields(got), completionFields(want)):
		t.Errorf("decodeCompletion(%s)\n= %+v\nwant %+v", body, completionFields(got), completionFields(want))
	case err == nil && werr != nil && !strings.Contains(werr.Error(), "MultiContent"):
		// go-openai refuses it while wire.go reads it: only where
		// go-openai's own message decoding is stricter.
		t.Logf("decodeCompletion read %s, which json.Unmarshal refuses: %v", body, werr)
	}
}

func FuzzDecodeCompletion(f *testing.F) {
	for _, b := range completionBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body, false) })
}
