package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/time/rate"
)

// Config describes one OpenAI-compatible endpoint and how to call it.
type Config struct {
	// Name names the endpoint in messages: "model" or "judge".
	Name string
	// BaseURL is the API root, such as http://localhost:8000/v1.
	BaseURL string
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
}

// A Client calls one endpoint's chat completions. It is safe for
// concurrent use.
type Client struct {
	cfg       Config
	oa        *openai.Client
	transport *Transport
	blanks    atomic.Int64
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.Base == nil {
		ht := http.DefaultTransport.(*http.Transport).Clone()
		ht.MaxIdleConnsPerHost = cmp.Or(cfg.IdleConns, 128)
		ht.MaxIdleConns = 0 // no overall cap
		cfg.Base = ht
	}
	t := &Transport{
		Base: cfg.Base, Params: cfg.Params, MaxAttempts: cfg.MaxAttempts, CallTimeout: cfg.CallTimeout,
		RetryWaitMin: cfg.RetryWaitMin, RetryWaitMax: cfg.RetryWaitMax, MaxBodyBytes: cfg.MaxBodyBytes,
		Secret: cfg.APIKey, Logger: cfg.Logger, Name: cfg.Name,
	}
	if cfg.RPS > 0 {
		t.Limiter = rate.NewLimiter(rate.Limit(cfg.RPS), max(1, int(cfg.RPS)))
	}
	t.init()
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	oc.HTTPClient = &http.Client{Transport: t}
	return &Client{cfg: cfg, oa: openai.NewClientWithConfig(oc), transport: t}
}

// Stats returns a snapshot of the client's transport counters.
func (c *Client) Stats() StatsSnapshot { return c.transport.Stats() }

// Blanks counts blank completions retried.
func (c *Client) Blanks() int64 { return c.blanks.Load() }

// Endpoint returns the endpoint's URL, redacted of credentials.
func (c *Client) Endpoint() string { return RedactURL(c.cfg.BaseURL) }

// A Response is a completion and how many HTTP attempts it took.
type Response struct {
	openai.ChatCompletionResponse
	Attempts int
	Latency  time.Duration
}

// Chat sends req. A blank completion is retried when RetryBlank is set.
// Errors from the endpoint come back as *StatusError; a response over the
// size limit as *BodyTooLargeError; network failures that outlast every
// attempt as *AttemptsError.
func (c *Client) Chat(ctx context.Context, req openai.ChatCompletionRequest) (Response, error) {
	var attempts int64
	actx := WithAttempts(ctx, &attempts)
	start := time.Now()
	for try := 1; ; try++ {
		resp, err := c.oa.CreateChatCompletion(actx, req)
		out := Response{ChatCompletionResponse: resp, Attempts: int(attempts), Latency: time.Since(start)}
		if err != nil {
			return out, c.classify(ctx, err)
		}
		if len(resp.Choices) == 0 {
			return out, fmt.Errorf("%s endpoint %s: response has no choices", c.cfg.Name, c.Endpoint())
		}
		m := resp.Choices[0].Message
		blank := strings.TrimSpace(m.Content) == "" && strings.TrimSpace(m.ReasoningContent) == "" && len(m.ToolCalls) == 0
		if !blank || !c.cfg.RetryBlank || int(attempts) >= c.transport.MaxAttempts {
			return out, nil
		}
		c.blanks.Add(1)
		c.transport.stats.Retries.Add(1)
		if err := sleep(ctx, Backoff(c.transport.RetryWaitMin, c.transport.RetryWaitMax, try)); err != nil {
			return out, err
		}
	}
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
	return false
}

// Hint says what to check for a fatal status.
func (e *StatusError) Hint() string {
	env := "PSVEVAL_MODEL_API_KEY"
	if e.Name == "judge" {
		env = "PSVEVAL_JUDGE_API_KEY"
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
		se.Status, se.Message = ae.HTTPStatusCode, clip(ae.Message, 300)
		return se
	}
	if re, ok := errors.AsType[*openai.RequestError](err); ok && re.HTTPStatusCode > 0 {
		se.Status, se.Message = re.HTTPStatusCode, clip(strings.TrimSpace(string(re.Body)), 300)
		return se
	}
	return fmt.Errorf("%s endpoint %s: %w", c.cfg.Name, c.Endpoint(), err)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
