package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/time/rate"
)

// Config describes one OpenAI-compatible endpoint and how to call it.
type Config struct {
	// Name names the endpoint in messages: "model" or "judge".
	Name string
	// BaseURL is the API root, such as http://localhost:8000/v1.
	BaseURL string
	// Replicas are more API roots serving the same model: each attempt
	// goes to the healthy one (BaseURL included) with the fewest requests
	// outstanding; a failing one cools down and is probed before it takes
	// work again.
	Replicas []string
	// APIKey is sent as a bearer token when non-empty. It never appears in
	// logs, errors or files: responses are redacted of it.
	APIKey string
	// Params are the sampling parameters written into every request body.
	Params map[string]any
	// MaxAttempts, CallTimeout, RetryWaitMin, RetryWaitMax and
	// MaxBodyBytes configure the [Transport]; zero means the default.
	MaxAttempts                int
	CallTimeout                time.Duration
	RetryWaitMin, RetryWaitMax time.Duration
	MaxBodyBytes               int64
	// RPS limits requests per second, retries included (0: no limit).
	RPS float64
	// RetryBlank retries a completion whose content and reasoning are both
	// empty, within MaxAttempts.
	RetryBlank bool
	// Breaker stops the client after this many calls in a row (each
	// retried up to MaxAttempts) failed with the same retryable error and
	// nothing succeeded in between: such an error will repeat (a dead
	// server, a text-only server refusing images). 0 means
	// DefaultBreaker; negative turns the breaker off.
	Breaker int
	// Base sends requests. The default is a clone of
	// http.DefaultTransport that keeps IdleConns connections per host open
	// between requests.
	Base http.RoundTripper
	// IdleConns is how many idle connections to keep per host (default
	// 128). Keep it at the concurrency or above: the standard library's
	// default of 2 makes every request beyond the second dial a new
	// connection.
	IdleConns int
	Logger    *slog.Logger
	// Notify, when set, is told once when the endpoint answers as another
	// model than the one requested.
	Notify func(msg string)
	// Observe, when set, is told every HTTP attempt's status (0 without a
	// response), latency and error: an adaptive concurrency limit feeds on
	// it.
	Observe func(status int, latency time.Duration, err error)
}

// A Client calls one endpoint's chat completions. It is safe for
// concurrent use.
type Client struct {
	cfg       Config
	oa        *openai.Client
	transport *Transport
	chatURL   string

	served  sync.Once
	mu      sync.Mutex
	streak  int    // calls in a row that failed alike
	last    string // their error's signature
	tripped *BreakerError
	meter   meter
	// caps are the capabilities GET /models listed by model, where the
	// server lists any (llama-server).
	caps map[string][]string
}

// Capabilities returns what the last GET /models said model can do
// ("completion", "multimodal"), and false when the server said nothing.
func (c *Client) Capabilities(model string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	caps, ok := c.caps[model]
	return caps, ok
}

// A meter totals the tokens a client's calls were billed.
type meter struct {
	mu    sync.Mutex
	total Tokens
	calls int64
}

func (m *meter) add(t Tokens) {
	m.mu.Lock()
	m.total.Add(t)
	m.calls++
	m.mu.Unlock()
}

// Billed returns the tokens every call of this client was billed so far
// (each 2xx reply's usage, blank replies asked again included), and the
// calls made.
func (c *Client) Billed() (Tokens, int64) {
	c.meter.mu.Lock()
	defer c.meter.mu.Unlock()
	return c.meter.total, c.meter.calls
}

// DefaultBreaker is how many calls in a row must fail alike to stop a
// client.
const DefaultBreaker = 8

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.Base == nil {
		ht := http.DefaultTransport.(*http.Transport).Clone()
		ht.MaxIdleConnsPerHost = cmp.Or(cfg.IdleConns, 128)
		ht.MaxIdleConns = 0 // no overall cap
		// A judge request with its response_format schema is 4–8 KB:
		// with net/http's 4 KB write buffer it took two write calls,
		// headers and the buffer's worth, then the rest (BENCHMARKS.md).
		ht.WriteBufferSize = 16 << 10
		cfg.Base = ht
	}
	t := &Transport{
		Base: cfg.Base, Params: cfg.Params, MaxAttempts: cfg.MaxAttempts, CallTimeout: cfg.CallTimeout,
		RetryWaitMin: cfg.RetryWaitMin, RetryWaitMax: cfg.RetryWaitMax, MaxBodyBytes: cfg.MaxBodyBytes,
		Secret: cfg.APIKey, Logger: cfg.Logger, Name: cfg.Name, observe: cfg.Observe, RetryBlank: cfg.RetryBlank,
	}
	if cfg.RPS > 0 {
		t.Limiter = rate.NewLimiter(rate.Limit(cfg.RPS), max(1, int(cfg.RPS)))
	}
	t.init()
	if len(cfg.Replicas) > 0 {
		t.replicas = newReplicaSet(cfg.BaseURL, cfg.Replicas, t.CallTimeout)
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	oc.HTTPClient = &http.Client{Transport: t}
	c := &Client{cfg: cfg, oa: openai.NewClientWithConfig(oc), transport: t, chatURL: oc.BaseURL + "/chat/completions"}
	return c
}

// Stats returns a snapshot of the client's transport counters.
func (c *Client) Stats() StatsSnapshot { return c.transport.Stats() }

// Blanks counts blank completions retried.
func (c *Client) Blanks() int64 { return c.transport.stats.Blanks.Load() }

// Replicas returns each replica's traffic, or nil without replicas.
func (c *Client) Replicas() []ReplicaStats {
	if c.transport.replicas == nil {
		return nil
	}
	var out []ReplicaStats
	for _, r := range c.transport.replicas.rs {
		r.mu.Lock()
		served := r.served
		r.mu.Unlock()
		out = append(out, ReplicaStats{URL: RedactURL(r.base), Requests: r.requests.Load(), Failures: r.failures.Load(), Served: served})
	}
	return out
}

// Name returns the endpoint's name: "model" or "judge".
func (c *Client) Name() string { return c.cfg.Name }

// Bases returns the API roots the client calls: BaseURL, then the replicas.
func (c *Client) Bases() []string {
	return append([]string{c.cfg.BaseURL}, c.cfg.Replicas...)
}

// Params returns the sampling parameters the client writes into every
// request.
func (c *Client) Params() map[string]any { return c.cfg.Params }

// Endpoint returns the endpoint's URL, redacted of credentials.
func (c *Client) Endpoint() string { return RedactURL(c.cfg.BaseURL) }

// A Response is a completion and how many HTTP attempts it took.
type Response struct {
	openai.ChatCompletionResponse
	Attempts int
	Latency  time.Duration
	// Billed sums the usage of every 2xx reply the call got: the one
	// returned, and blank ones that were asked again, which the provider
	// bills too.
	Billed Tokens
}

// Chat sends req. A blank completion is retried when RetryBlank is set.
// Errors from the endpoint come back as *StatusError; a response over the
// size limit as *BodyTooLargeError; network failures that outlast every
// attempt as *AttemptsError.
func (c *Client) Chat(ctx context.Context, req openai.ChatCompletionRequest) (Response, error) {
	c.mu.Lock()
	tripped := c.tripped
	c.mu.Unlock()
	if tripped != nil {
		return Response{}, tripped
	}
	var rep *replica
	if c.transport.replicas != nil {
		ctx = withReplica(ctx, &rep)
	}
	resp, err := c.chat(ctx, req)
	if err == nil && rep != nil && resp.Model != "" {
		if me := c.transport.replicas.served(rep, resp.Model); me != nil {
			return resp, me
		}
	}
	if err == nil && resp.Model != "" && resp.Model != req.Model && c.cfg.Notify != nil {
		c.served.Do(func() {
			c.cfg.Notify(fmt.Sprintf("%s endpoint %s answers as %q, not the requested %q; the manifest records both", c.cfg.Name, c.Endpoint(), resp.Model, req.Model))
		})
	}
	if ctx.Err() == nil {
		if be := c.observe(err); be != nil {
			return resp, be
		}
	}
	return resp, err
}

// observe feeds the breaker one call's outcome; it returns the
// *BreakerError once the breaker trips.
func (c *Client) observe(err error) *BreakerError {
	n := c.cfg.Breaker
	if n == 0 {
		n = DefaultBreaker
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tripped != nil {
		return c.tripped
	}
	if err == nil {
		c.streak, c.last = 0, ""
		return nil
	}
	sig := signature(err)
	if sig == "" || n < 0 {
		return nil // an error of this one request (a 400, say): no verdict on the endpoint
	}
	if sig != c.last {
		c.streak, c.last = 0, sig
	}
	if c.streak++; c.streak >= n {
		c.tripped = &BreakerError{Name: c.cfg.Name, Endpoint: c.Endpoint(), Calls: c.streak, Err: err}
	}
	return c.tripped
}

// signature returns what makes two failures "the same" for the breaker,
// or "" for an error that says nothing about the endpoint as a whole. A
// refused and a reset connection are the same: the server is down.
func signature(err error) string {
	if se, ok := errors.AsType[*StatusError](err); ok {
		switch se.Status {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return fmt.Sprintf("HTTP %d: %s", se.Status, se.Message)
		}
		return ""
	}
	if _, ok := errors.AsType[*AttemptsError](err); !ok {
		return ""
	}
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection refused or reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &dns):
		return "no such host"
	}
	return err.Error()
}

// A BreakerError reports an endpoint that failed the same way on Calls
// calls in a row, each retried, with nothing succeeding in between.
type BreakerError struct {
	Name, Endpoint string
	Calls          int
	Err            error
}

func (e *BreakerError) Error() string {
	return fmt.Sprintf("%s endpoint %s failed the same way on %d calls in a row, each retried, and on none since the last success: %v; stopping instead of retrying every item (--breaker sets the count)",
		e.Name, e.Endpoint, e.Calls, e.Err)
}

func (e *BreakerError) Unwrap() error { return e.Err }

// Fatal reports true: a tripped breaker stops the run.
func (e *BreakerError) Fatal() bool { return true }

func (c *Client) chat(ctx context.Context, req openai.ChatCompletionRequest) (Response, error) {
	start := time.Now()
	resp, attempts, billed, err := c.create(ctx, req)
	out := Response{ChatCompletionResponse: resp, Attempts: attempts, Latency: time.Since(start), Billed: billed}
	c.meter.add(billed)
	if err != nil {
		return out, c.classify(ctx, err)
	}
	if len(resp.Choices) == 0 {
		return out, fmt.Errorf("%s endpoint %s: response has no choices", c.cfg.Name, c.Endpoint())
	}
	return out, nil
}

// create sends one chat completion request. What psveval itself sends is
// written and read by wire.go; anything else goes through go-openai.
// create sends one chat completion request, with the transport's
// retries, and returns the completion and the attempts it took. The body
// is written by wire.go, or, for a request with a field wire.go does not
// know, marshalled as go-openai would and merged with the parameters.
func (c *Client) create(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, int, Tokens, error) {
	var billed Tokens
	if c.transport.paramsErr != nil {
		resp, err := c.oa.CreateChatCompletion(ctx, req) // whose transport reports the bad parameter
		return resp, 0, billed, err
	}
	body, err := c.encode(req)
	if err != nil {
		return openai.ChatCompletionResponse{}, 0, billed, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.chatURL, nil)
	if err != nil {
		return openai.ChatCompletionResponse{}, 0, billed, err
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	// A 2xx reply is decoded once, by the blank check the transport's
	// retry policy asks; the last one decoded is the reply returned.
	var out openai.ChatCompletionResponse
	var decErr error
	decoded := false
	// Every 2xx reply decoded is billed, blank ones asked again included.
	blank := func(data []byte) bool {
		out, decErr = decodeCompletion(data)
		decoded = true
		if decErr == nil {
			billed.Add(TokensOf(out.Usage))
		}
		return decErr == nil && blankReply(out)
	}
	resp, data, attempts, err := c.transport.send(hr, c.transport.blobs.expand(body), blank)
	if err != nil {
		return openai.ChatCompletionResponse{}, attempts, billed, err
	}
	if isHTML(resp.Header, data) {
		return openai.ChatCompletionResponse{}, attempts, billed, &HTMLError{Name: c.cfg.Name, Endpoint: c.Endpoint(), Status: resp.StatusCode}
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return openai.ChatCompletionResponse{}, attempts, billed, &openai.APIError{HTTPStatusCode: resp.StatusCode, Message: apiMessage(data)}
	}
	if !decoded {
		out, decErr = decodeCompletion(data)
		if decErr == nil {
			billed.Add(TokensOf(out.Usage))
		}
	}
	if err := decErr; err != nil {
		// Read it as go-openai would before giving up: a shape wire.go
		// does not know (content as a list of parts, say) may still be
		// a completion.
		var full openai.ChatCompletionResponse
		if json.Unmarshal(data, &full) == nil {
			billed.Add(TokensOf(full.Usage))
			return full, attempts, billed, nil
		}
		return out, attempts, billed, err
	}
	return out, attempts, billed, nil
}

// blankReply reports whether a completion's first choice has neither
// content, nor reasoning, nor tool calls: a reply worth asking again
// (DeepSeek's json_object mode sends them). A reply without choices is
// not blank: it is an error.
func blankReply(out openai.ChatCompletionResponse) bool {
	if len(out.Choices) == 0 {
		return false
	}
	m := out.Choices[0].Message
	return strings.TrimSpace(m.Content) == "" && strings.TrimSpace(m.ReasoningContent) == "" && len(m.ToolCalls) == 0
}

// An HTMLError is an endpoint that answered with an HTML page where an
// OpenAI-compatible API answers JSON: the URL is not the API's (a web
// server's page, a proxy's error page, a path without /v1). Every later
// request would get the same page, so it is fatal.
type HTMLError struct {
	Name, Endpoint string
	Status         int
}

func (e *HTMLError) Error() string {
	return fmt.Sprintf("%s endpoint %s answered with an HTML page (HTTP %d) where the API answers JSON: the URL is not an OpenAI-compatible API's; check it (it usually ends in /v1)", e.Name, e.Endpoint, e.Status)
}

// Fatal reports true: a misconfigured URL dooms every request.
func (e *HTMLError) Fatal() bool { return true }

// Kind names the error for results.jsonl: "html".
func (e *HTMLError) Kind() string { return "html" }

// isHTML reports whether a response is an HTML page: by its content type,
// or by its first bytes when it has none.
func isHTML(h http.Header, body []byte) bool {
	if ct := strings.ToLower(h.Get("Content-Type")); ct != "" {
		return strings.HasPrefix(ct, "text/html")
	}
	b := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 64)]))
	return bytes.HasPrefix(b, []byte("<!doctype html")) || bytes.HasPrefix(b, []byte("<html"))
}

// NormalizeURL returns an endpoint URL as the judgment cache keys it:
// credentials, query and fragment dropped, scheme and host in lower case,
// no trailing slash. Two URLs that reach the same API under different
// spellings key alike; two servers do not.
func NormalizeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimRight(strings.TrimSpace(raw), "/")
	}
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "http" && strings.HasSuffix(host, ":80"), u.Scheme == "https" && strings.HasSuffix(host, ":443"):
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return strings.ToLower(u.Scheme) + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

// A StatusError is an error response from an endpoint.
type StatusError struct {
	Endpoint string // redacted URL
	Name     string // "model" or "judge"
	Status   int
	Message  string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s endpoint %s: HTTP %d", e.Name, e.Endpoint, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if h := e.Hint(); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

// Fatal reports whether the error dooms every later request too, so that a
// run must stop: 401, 402, 403, or 404 (an unknown model or a wrong URL).
func (e *StatusError) Fatal() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return noVision(e.Status, e.Message)
}

// noVision reports a server that refuses images because it serves the
// model without its vision part: llama-server started without --mmproj
// (HTTP 500 "image input is not supported … mmproj"), vLLM serving a
// text-only model ("is not a multimodal model"). The server says so
// only in words; no retry can help, so the run stops at once.
func noVision(status int, msg string) bool {
	if status < 400 {
		return false
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "image input is not supported") || strings.Contains(m, "not a multimodal model") ||
		strings.Contains(m, "mmproj")
}

// ContextExceeded reports a prompt refused for being longer than the
// server's context: HTTP 400 with a message about the context
// (llama-server: "the request exceeds the available context size"; vLLM:
// "This model's maximum context length is ..."). The server says so only
// in words, and only its words are read, not the endpoint's URL.
func (e *StatusError) ContextExceeded() bool {
	return e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "context")
}

// HTTPStatus returns the response's status code.
func (e *StatusError) HTTPStatus() int { return e.Status }

// Kind names the error for results.jsonl: "http_<status>".
func (e *StatusError) Kind() string { return fmt.Sprintf("http_%d", e.Status) }

// Hint says what to check for a fatal status.
func (e *StatusError) Hint() string {
	env := "PSVEVAL_MODEL_API_KEY"
	if e.Name == "judge" {
		env = "PSVEVAL_JUDGE_API_KEY"
	}
	if noVision(e.Status, e.Message) {
		return "the server takes no images: start llama-server with --mmproj (the model's vision projector), or serve a multimodal model"
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return "check the API key in " + env
	case http.StatusPaymentRequired:
		return "the account behind " + env + " is out of credit"
	case http.StatusForbidden:
		return "the key in " + env + " may not use this model or endpoint"
	case http.StatusNotFound:
		return "unknown model or wrong URL: check the model name against GET /models, and that the URL ends in /v1"
	}
	return ""
}

func (c *Client) classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	se := &StatusError{Endpoint: c.Endpoint(), Name: c.cfg.Name}
	if ae, ok := errors.AsType[*openai.APIError](err); ok && ae.HTTPStatusCode > 0 {
		se.Status, se.Message = ae.HTTPStatusCode, Clip(ae.Message, 300)
		return se
	}
	if re, ok := errors.AsType[*openai.RequestError](err); ok && re.HTTPStatusCode > 0 {
		se.Status, se.Message = re.HTTPStatusCode, Clip(strings.TrimSpace(string(re.Body)), 300)
		return se
	}
	return fmt.Errorf("%s endpoint %s: %w", c.cfg.Name, c.Endpoint(), err)
}

// Clip returns s cut to at most n bytes, at a UTF-8 boundary, with "..."
// added where it was cut: for error messages and replies quoted back.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// An UnreachableError reports an endpoint that could not be reached at
// all: refused, reset, unknown host or no answer in time.
type UnreachableError struct {
	Name, Endpoint string
	Err            error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s endpoint %s is unreachable: %v (is the server running, and is the URL right?)", e.Name, e.Endpoint, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Fatal reports true: an endpoint that cannot be reached before the run
// starts stops it.
func (e *UnreachableError) Fatal() bool { return true }

// PreflightTimeout bounds the one request [Client.Models] makes.
const PreflightTimeout = 5 * time.Second

// Models asks the endpoint which model ids it serves (GET /models), with
// one request and no retries, so that a dead endpoint is known within
// PreflightTimeout. An endpoint that cannot be reached gives an
// *UnreachableError; an error status a *StatusError (404 or 405 where
// the endpoint does not implement the listing).
func (c *Client) Models(ctx context.Context) ([]string, error) {
	return c.ModelsAt(ctx, c.cfg.BaseURL)
}

// ModelsAt is Models for one of the client's API roots (a replica).
func (c *Client) ModelsAt(ctx context.Context, base string) ([]string, error) {
	endpoint := RedactURL(base)
	ctx, cancel := context.WithTimeout(ctx, min(PreflightTimeout, c.transport.CallTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/models", nil)
	if err != nil {
		return nil, err
	}
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.cfg.Base.RoundTrip(req)
	if err != nil {
		// The URL may carry credentials: say where, never what.
		msg := strings.ReplaceAll(err.Error(), base, endpoint)
		return nil, &UnreachableError{Name: c.cfg.Name, Endpoint: endpoint, Err: errors.New(RedactUserinfo(msg))}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, &UnreachableError{Name: c.cfg.Name, Endpoint: endpoint, Err: err}
	}
	if c.cfg.APIKey != "" {
		body = bytes.ReplaceAll(body, []byte(c.cfg.APIKey), []byte("[REDACTED]"))
	}
	if isHTML(resp.Header, body) {
		return nil, &HTMLError{Name: c.cfg.Name, Endpoint: endpoint, Status: resp.StatusCode}
	}
	if resp.StatusCode/100 != 2 {
		return nil, &StatusError{Endpoint: endpoint, Name: c.cfg.Name, Status: resp.StatusCode, Message: Clip(apiMessage(body), 300)}
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
		// llama-server also lists its models as Ollama does, with their
		// capabilities: "multimodal" only with a vision projector.
		Models []struct {
			Name         string   `json:"name"`
			Capabilities []string `json:"capabilities"`
		} `json:"models"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("%s endpoint %s: GET /models did not return a model list: %w", c.cfg.Name, endpoint, err)
	}
	c.mu.Lock()
	for _, m := range list.Models {
		if m.Capabilities != nil {
			if c.caps == nil {
				c.caps = map[string][]string{}
			}
			c.caps[m.Name] = m.Capabilities
		}
	}
	c.mu.Unlock()
	ids := make([]string, 0, len(list.Data))
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// apiMessage returns the message of an OpenAI-style error body,
// {"error": {"message": ...}} or {"message": ...}, else the body.
func apiMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(e.Error, &inner) == nil && inner.Message != "" {
			return inner.Message
		}
		var s string
		if json.Unmarshal(e.Error, &s) == nil && s != "" {
			return s
		}
		if e.Message != "" {
			return e.Message
		}
	}
	return strings.TrimSpace(string(body))
}

// encode writes req's body with the client's parameters, images still as
// placeholders: by wire.go, or, for a request with a field wire.go does
// not know, as go-openai would, merged with the parameters.
func (c *Client) encode(req openai.ChatCompletionRequest) ([]byte, error) {
	if body, ok := encodeRequest(&req, c.transport.params); ok {
		return body, nil
	}
	b, err := json.Marshal(req)
	if err == nil && len(c.transport.params) > 0 {
		b, err = mergeEncoded(b, c.transport.params)
	}
	return b, err
}

// Body returns the exact body Chat would send for req, every sampling
// parameter and image included: what a batch file carries.
func (c *Client) Body(req openai.ChatCompletionRequest) ([]byte, error) {
	if c.transport.paramsErr != nil {
		return nil, c.transport.paramsErr
	}
	b, err := c.encode(req)
	if err != nil {
		return nil, err
	}
	return c.transport.blobs.expand(b), nil
}

// ChatPath is the path, under the API root, that chat requests go to:
// a batch file's "url".
const ChatPath = "/v1/chat/completions"

// DecodeCompletion reads a chat completion body as Chat does, with its
// billed token counts: a batch output file's response bodies.
func DecodeCompletion(data []byte) (openai.ChatCompletionResponse, Tokens, error) {
	out, err := decodeCompletion(data)
	if err != nil {
		var full openai.ChatCompletionResponse
		if json.Unmarshal(data, &full) != nil {
			return out, Tokens{}, err
		}
		out = full
	}
	if len(out.Choices) == 0 {
		return out, TokensOf(out.Usage), fmt.Errorf("%w: no choices", errNotCompletion)
	}
	return out, TokensOf(out.Usage), nil
}
