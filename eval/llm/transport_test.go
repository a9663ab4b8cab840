package llm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// script is an in-memory RoundTripper that plays one step per attempt and
// records when each attempt came (in synctest's fake time).
type script struct {
	mu     sync.Mutex
	steps  []func(*http.Request) (*http.Response, error)
	times  []time.Time
	bodies [][]byte
}

func (s *script) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	i := len(s.times)
	s.times = append(s.times, time.Now())
	b, _ := io.ReadAll(r.Body)
	s.bodies = append(s.bodies, b)
	step := s.steps[min(i, len(s.steps)-1)]
	s.mu.Unlock()
	return step(r)
}

func reply(status int, body string, header ...string) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {"application/json"}}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
}

func netErr(r *http.Request) (*http.Response, error) {
	return nil, errors.New("connection reset by peer")
}

// hang waits until the attempt's deadline, like a server slower than the
// call timeout.
func hang(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

const okBody = `{"id":"x","model":"served-id","choices":[{"index":0,"message":{"role":"assistant","content":"yes"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`

func client(s *script, cfg Config) *Client {
	cfg.Base = s
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://vllm.test/v1"
	}
	if cfg.Name == "" {
		cfg.Name = "model"
	}
	return New(cfg)
}

func chat(c *Client) (Response, error) {
	return c.Chat(context.Background(), openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "q"}}})
}

func TestExplicitSamplingParams(t *testing.T) {
	t.Parallel()
	s := &script{steps: []func(*http.Request) (*http.Response, error){reply(200, okBody)}}
	c := client(s, Config{Params: map[string]any{"temperature": 0, "top_p": 1, "seed": 0, "max_tokens": 64, "top_k": -1, "repetition_penalty": 1.0}})
	resp, err := chat(c)
	if err != nil || resp.Model != "served-id" || resp.Attempts != 1 {
		t.Fatalf("Chat = %+v, %v", resp, err)
	}
	var body map[string]any
	if err := json.Unmarshal(s.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"temperature": 0.0, "top_p": 1.0, "seed": 0.0, "max_tokens": 64.0, "top_k": -1.0, "repetition_penalty": 1.0, "model": "m"} {
		if got, ok := body[k]; !ok || got != want {
			t.Errorf("body[%q] = %v (present %v), want %v; body %s", k, got, ok, want, s.bodies[0])
		}
	}
}

func TestMergeParamsKeepsRequestValues(t *testing.T) {
	t.Parallel()
	got, err := MergeParams([]byte(`{"model":"m","max_tokens":4096}`), map[string]any{"max_tokens": 2048, "temperature": 0, "thinking": map[string]any{"type": "disabled"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","max_tokens":4096,"temperature":0,"thinking":{"type":"disabled"}}`
	if string(got) != want {
		t.Errorf("MergeParams = %s, want %s", got, want)
	}
	for in, want := range map[string]string{
		`{}`:                          `{"temperature":0}`,
		` { "m" : "a}\"}" } `:         ` { "m" : "a}\"}","temperature":0} `,
		`{"temperature":0.7,"x":[1]}`: `{"temperature":0.7,"x":[1]}`,
	} {
		got, err := MergeParams([]byte(in), map[string]any{"temperature": 0})
		if err != nil || string(got) != want {
			t.Errorf("MergeParams(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := MergeParams([]byte(`[1]`), map[string]any{"a": 1}); err == nil {
		t.Error("MergeParams accepted a body that is not an object")
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []func(*http.Request) (*http.Response, error){
			reply(429, `{"error":{"message":"slow down"}}`, "Retry-After", "7"),
			reply(503, `{"error":{"message":"busy"}}`, "Retry-After", "2"),
			reply(200, okBody),
		}}
		c := client(s, Config{})
		resp, err := chat(c)
		if err != nil || resp.Attempts != 3 {
			t.Fatalf("Chat = %+v, %v", resp, err)
		}
		if d := s.times[1].Sub(s.times[0]); d != 7*time.Second {
			t.Errorf("waited %v after 429 with Retry-After: 7, want 7s", d)
		}
		if d := s.times[2].Sub(s.times[1]); d != 2*time.Second {
			t.Errorf("waited %v after 503 with Retry-After: 2, want 2s", d)
		}
		if st := c.Stats(); st.Retries != 2 || st.Status429 != 1 || st.Status5xx != 1 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestRetryBackoffIsCappedAndJittered(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []func(*http.Request) (*http.Response, error){netErr, netErr, netErr, netErr, netErr, reply(200, okBody)}}
		c := client(s, Config{MaxAttempts: 6, RetryWaitMin: time.Second, RetryWaitMax: 4 * time.Second})
		if _, err := chat(c); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(s.times); i++ {
			ceil := min(4*time.Second, time.Second<<(i-1))
			if d := s.times[i].Sub(s.times[i-1]); d < 0 || d > ceil {
				t.Errorf("wait before attempt %d = %v, want within [0, %v]", i+1, d, ceil)
			}
		}
	})
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []func(*http.Request) (*http.Response, error){hang, reply(200, okBody)}}
		c := client(s, Config{CallTimeout: 30 * time.Second, RetryWaitMin: time.Millisecond})
		resp, err := chat(c)
		if err != nil || resp.Attempts != 2 {
			t.Fatalf("Chat = %+v, %v", resp, err)
		}
		if d := s.times[1].Sub(s.times[0]); d < 30*time.Second {
			t.Errorf("second attempt came %v after the first, before the 30s timeout", d)
		}
		if c.Stats().Timeouts != 1 {
			t.Errorf("timeouts = %d, want 1", c.Stats().Timeouts)
		}
	})
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []func(*http.Request) (*http.Response, error){reply(502, `{"error":{"message":"bad gateway"}}`)}}
		c := client(s, Config{MaxAttempts: 3})
		_, err := chat(c)
		se, ok := errors.AsType[*StatusError](err)
		if !ok || se.Status != 502 || se.Fatal() || len(s.times) != 3 {
			t.Fatalf("err = %v after %d attempts; want a non-fatal 502 after 3", err, len(s.times))
		}
	})
}

func TestFatalAndItemErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		fatal  bool
		hint   string
	}{
		{400, false, ""}, {401, true, "PSVEVAL_MODEL_API_KEY"}, {402, true, "out of credit"},
		{403, true, "may not use"}, {404, true, "unknown model"}, {422, false, ""},
	} {
		s := &script{steps: []func(*http.Request) (*http.Response, error){reply(tc.status, `{"error":{"message":"nope"}}`)}}
		_, err := chat(client(s, Config{}))
		se, ok := errors.AsType[*StatusError](err)
		if !ok || se.Status != tc.status || se.Fatal() != tc.fatal || len(s.times) != 1 || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("HTTP %d: err %v after %d attempts; want fatal=%v, one attempt, hint %q", tc.status, err, len(s.times), tc.fatal, tc.hint)
		}
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []func(*http.Request) (*http.Response, error){reply(503, `{}`, "Retry-After", "60")}}
		c := client(s, Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.Chat(ctx, openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "q"}}})
		if !errors.Is(err, context.DeadlineExceeded) || len(s.times) != 1 {
			t.Errorf("err = %v after %d attempts, want the deadline after 1", err, len(s.times))
		}
	})
}

func TestBlankCompletionIsRetried(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		blank := strings.Replace(okBody, `"content":"yes"`, `"content":""`, 1)
		s := &script{steps: []func(*http.Request) (*http.Response, error){reply(200, blank), reply(200, okBody)}}
		c := client(s, Config{RetryBlank: true})
		resp, err := chat(c)
		if err != nil || resp.Choices[0].Message.Content != "yes" || resp.Attempts != 2 || c.Blanks() != 1 {
			t.Errorf("Chat = %+v, %v", resp, err)
		}
	})
}

func TestBodyLimitAndRedaction(t *testing.T) {
	t.Parallel()
	big := `{"id":"x","choices":[{"message":{"content":"` + strings.Repeat("a", 5000) + `"}}]}`
	s := &script{steps: []func(*http.Request) (*http.Response, error){reply(200, big)}}
	_, err := chat(client(s, Config{MaxBodyBytes: 1000}))
	if _, ok := errors.AsType[*BodyTooLargeError](err); !ok || len(s.times) != 1 {
		t.Errorf("err = %v (%d attempts), want a *BodyTooLargeError at once", err, len(s.times))
	}
	const key = "sk-secret-123"
	echo := func(r *http.Request) (*http.Response, error) {
		return reply(401, `{"error":{"message":"bad key `+r.Header.Get("Authorization")+`"}}`)(r)
	}
	s = &script{steps: []func(*http.Request) (*http.Response, error){echo}}
	_, err = chat(client(s, Config{APIKey: key, BaseURL: "http://user:pw@vllm.test/v1?api_key=zzz"}))
	if err == nil || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "pw@") || strings.Contains(err.Error(), "zzz") {
		t.Errorf("error leaks a secret: %v", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error %v does not show the redaction", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"3": 3 * time.Second, "0": 0, "1.5": 1500 * time.Millisecond, " 10 ": 10 * time.Second,
		"Wed, 25 Nov 2026 12:00:30 GMT": 30 * time.Second, "Wed, 25 Nov 2026 11:00:00 GMT": 0,
	} {
		if got, ok := ParseRetryAfter(in, now); !ok || got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "soon", "-1", "NaN", "1e300"} {
		if got, ok := ParseRetryAfter(in, now); ok {
			t.Errorf("ParseRetryAfter(%q) = %v, want not ok", in, got)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"3", "1.5", "Wed, 25 Nov 2026 12:00:30 GMT", "", "-1", "NaN", "+Inf", "0x10"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if ok && d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, a negative wait", s, d)
		}
	})
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://user:pass@host:8000/v1":      "http://REDACTED@host:8000/v1",
		"https://api.example/v1?api_key=abc": "https://api.example/v1?api_key=REDACTED",
		"http://localhost:8000/v1":           "http://localhost:8000/v1",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactArgs(t *testing.T) {
	t.Parallel()
	in := []string{"run", "--model-url=http://alice:pw@host:8000/v1", "--judge-url", "https://api.example/v1?token=abc", "--model-url", "bob:pw@127.0.0.1:8099/v1", "--model", "bench-vlm"}
	want := []string{"run", "--model-url=http://REDACTED@host:8000/v1", "--judge-url", "https://api.example/v1?token=REDACTED", "--model-url", "REDACTED@127.0.0.1:8099/v1", "--model", "bench-vlm"}
	if got := RedactArgs(in); !slices.Equal(got, want) {
		t.Errorf("RedactArgs =\n%q\nwant\n%q", got, want)
	}
	if in[1] != "--model-url=http://alice:pw@host:8000/v1" {
		t.Errorf("RedactArgs changed its input: %q", in[1])
	}
}

func TestBlobsExpandInPlace(t *testing.T) {
	t.Parallel()
	var bs blobs
	bs.m.Store("psveval-blob:1", "data:image/png;base64,AAAA")
	bs.m.Store("psveval-blob:22", "data:image/jpeg;base64,/9j/+==")
	in := `{"a":"psveval-blob:1","b":["psveval-blob:22","psveval-blob:3","x psveval-blob:1"],"c":"psveval-blob:1x"}`
	want := `{"a":"data:image/png;base64,AAAA","b":["data:image/jpeg;base64,/9j/+==","psveval-blob:3","x psveval-blob:1"],"c":"psveval-blob:1x"}`
	if got := string(bs.expand([]byte(in))); got != want {
		t.Errorf("expand =\n%s\nwant\n%s", got, want)
	}
}

// TestBlobReachesTheServer sends a request whose image goes by blob: the
// server receives the data URI in the body, and retries send it again.
func TestBlobReachesTheServer(t *testing.T) {
	t.Parallel()
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"yes"}}]}`)
	}))
	defer srv.Close()
	c := New(Config{Name: "model", BaseURL: srv.URL + "/v1", RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	uri := "data:image/png;base64," + strings.Repeat("iVBORw0KGgo+/", 1000)
	p := c.Blob(uri)
	defer c.Drop(p)
	raw := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 0xff}, 5000)
	rawURI := "data:image/png;base64," + base64.StdEncoding.EncodeToString(raw)
	p2 := c.BlobBase64("data:image/png;base64,", raw)
	defer c.Drop(p2)
	_, err := c.Chat(t.Context(), openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user",
		MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: p}},
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: p2}},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 {
		t.Fatalf("%d requests, want 2", len(bodies))
	}
	for i, b := range bodies {
		if !strings.Contains(b, `"url":"`+uri+`"`) || !strings.Contains(b, `"url":"`+rawURI+`"`) || strings.Contains(b, blobPrefix) {
			t.Errorf("request %d does not carry the images themselves: %.200s", i+1, b)
		}
		if !json.Valid([]byte(b)) {
			t.Errorf("request %d is not valid JSON", i+1)
		}
	}
}

// TestRetriesCountedOnceOnEitherPath: a request with a field wire.go
// does not write (stop, here) is marshalled as go-openai would and sent
// through the same transport, so a blank reply is retried and counted by
// the transport's one policy, and the attempts come back in the
// response, as on the hand-written path.
func TestRetriesCountedOnceOnEitherPath(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		blank := strings.Replace(okBody, `"content":"yes"`, `"content":"  "`, 1)
		for _, stop := range [][]string{nil, {"\n"}} {
			s := &script{steps: []func(*http.Request) (*http.Response, error){reply(503, `{}`), reply(200, blank), reply(200, okBody)}}
			c := client(s, Config{RetryBlank: true, MaxAttempts: 5, Params: map[string]any{"temperature": 0}})
			resp, err := c.Chat(context.Background(), openai.ChatCompletionRequest{Model: "m", Stop: stop, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "q"}}})
			st := c.Stats()
			if err != nil || resp.Attempts != 3 || st.Retries != 2 || st.Blanks != 1 || st.Attempts != 3 || c.Blanks() != 1 {
				t.Errorf("stop %q: Chat = %v; attempts %d, stats %+v: want 3 attempts, 2 retries, 1 blank", stop, err, resp.Attempts, st)
			}
			if body := string(s.bodies[0]); !strings.Contains(body, `"temperature":0`) || (stop != nil) != strings.Contains(body, `"stop"`) {
				t.Errorf("stop %q: body %s", stop, body)
			}
		}
	})
}

// TestReadBodyReadsWhatReadAllReads: a reply read into a buffer of its
// announced length is what io.ReadAll reads, whether the announced length
// is right, missing, short or past the limit, and an announced length
// costs one allocation.
func TestReadBodyReadsWhatReadAllReads(t *testing.T) {
	body := strings.Repeat(`{"choices":[]}`, 100)
	for _, c := range []struct {
		announced, limit int64
	}{
		{int64(len(body)), 1 << 20}, {-1, 1 << 20}, {10, 1 << 20}, {int64(len(body)) + 5, 1 << 20},
		{int64(len(body)), 100}, {50, 100}, {0, 1 << 20},
	} {
		resp := func() *http.Response {
			return &http.Response{Body: io.NopCloser(strings.NewReader(body)), ContentLength: c.announced}
		}
		got, err := readBody(resp(), c.limit)
		want, _ := io.ReadAll(io.LimitReader(resp().Body, c.limit))
		if err != nil || string(got) != string(want) {
			t.Errorf("announced %d, limit %d: read %d bytes, %v; want %d bytes", c.announced, c.limit, len(got), err, len(want))
		}
	}
	r := strings.NewReader(body)
	resp := &http.Response{Body: io.NopCloser(r), ContentLength: int64(len(body))}
	if n := testing.AllocsPerRun(10, func() { r.Reset(body); readBody(resp, 1<<20) }); n != 1 {
		t.Errorf("readBody made %v allocations, want 1", n)
	}
}
