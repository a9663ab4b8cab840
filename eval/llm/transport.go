// Package llm builds clients for OpenAI-compatible endpoints (vLLM, the
// DeepSeek API, ...) on top of go-openai, adding what an evaluation needs:
//
//   - explicit sampling parameters: go-openai omits zero values such as
//     temperature 0 and has no hook for extra body fields, so [Transport]
//     writes every configured parameter into each request body itself;
//   - retries with capped exponential backoff and full jitter that honour
//     Retry-After, each attempt under its own timeout;
//   - an optional request-rate limit per endpoint;
//   - a cap on response size, and redaction of the API key from anything
//     the endpoint sends back.
//
// It is a leaf package: it knows nothing of items or rubrics.
package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/psveval/psveval/eval/jsonscan"
)

// Defaults for [Transport].
const (
	DefaultMaxAttempts  = 6
	DefaultCallTimeout  = 120 * time.Second
	DefaultRetryWaitMin = 500 * time.Millisecond
	DefaultRetryWaitMax = 30 * time.Second
	// DefaultRetryAfterMax caps how long a Retry-After header can make a
	// request wait.
	DefaultRetryAfterMax = 120 * time.Second
	// DefaultMaxBodyBytes caps a response body.
	DefaultMaxBodyBytes = 8 << 20
)

// A Transport is an http.RoundTripper for one endpoint. The zero value is
// not usable; set Base at least, and fill the zero fields with their
// defaults by calling [Transport.init] through [New].
//
// A Transport is safe for concurrent use.
type Transport struct {
	// Base sends each attempt.
	Base http.RoundTripper
	// Params are written into every JSON request body, unless the body
	// already has the key (a per-request override, such as a larger
	// max_tokens). A value of nil is sent as JSON null.
	Params map[string]any
	// Limiter, when non-nil, is waited on before every attempt, retries
	// included.
	Limiter *rate.Limiter
	// MaxAttempts bounds attempts per request, the first included.
	MaxAttempts int
	// CallTimeout bounds each attempt, response body included.
	CallTimeout time.Duration
	// RetryWaitMin and RetryWaitMax bound the backoff between attempts;
	// RetryAfterMax bounds a wait that a Retry-After header asks for.
	RetryWaitMin, RetryWaitMax, RetryAfterMax time.Duration
	// MaxBodyBytes caps a response body; a longer one fails the request
	// with a *BodyTooLargeError and is not retried.
	MaxBodyBytes int64
	// Secret, when set, is replaced by "[REDACTED]" in every response body.
	Secret string
	// RetryBlank retries a 2xx chat completion that came back blank (no
	// content, reasoning or tool calls), within MaxAttempts.
	RetryBlank bool
	// Logger receives a Debug line per retry.
	Logger *slog.Logger
	// Name names the endpoint in log lines and errors ("model", "judge").
	Name string

	// replicas, when set, routes every attempt to one replica.
	replicas *replicaSet
	// blobs are the long values requests carry by placeholder.
	blobs blobs
	// observe, when set, is told every attempt's outcome.
	observe func(status int, latency time.Duration, err error)
	// params are Params marshalled once, in key order, by init; paramsErr
	// says why they would not marshal.
	params    []encoded
	paramsErr error

	stats Stats
}

// Stats counts a transport's traffic. Read it with [Transport.Stats].
type Stats struct {
	// Retries counts every attempt after a call's first, whatever the
	// reason; Blanks, those of them that retried a blank completion.
	Attempts, Retries, Timeouts, NetErrors, Blanks atomic.Int64
	// ByStatus counts responses by status class: 2xx, 4xx, 429, 5xx.
	Status2xx, Status4xx, Status429, Status5xx atomic.Int64
}

// A StatsSnapshot is a copy of [Stats] at one moment.
type StatsSnapshot struct {
	Attempts, Retries, Timeouts, NetErrors     int64
	Blanks                                     int64
	Status2xx, Status4xx, Status429, Status5xx int64
}

// Stats returns a snapshot of t's counters.
func (t *Transport) Stats() StatsSnapshot {
	s := &t.stats
	return StatsSnapshot{
		Attempts: s.Attempts.Load(), Retries: s.Retries.Load(), Timeouts: s.Timeouts.Load(), NetErrors: s.NetErrors.Load(), Blanks: s.Blanks.Load(),
		Status2xx: s.Status2xx.Load(), Status4xx: s.Status4xx.Load(), Status429: s.Status429.Load(), Status5xx: s.Status5xx.Load(),
	}
}

func (t *Transport) init() {
	t.params, t.paramsErr = encodeParams(t.Params)
	if t.Base == nil {
		t.Base = http.DefaultTransport
	}
	if t.MaxAttempts <= 0 {
		t.MaxAttempts = DefaultMaxAttempts
	}
	if t.CallTimeout <= 0 {
		t.CallTimeout = DefaultCallTimeout
	}
	if t.RetryWaitMin <= 0 {
		t.RetryWaitMin = DefaultRetryWaitMin
	}
	if t.RetryWaitMax <= 0 {
		t.RetryWaitMax = DefaultRetryWaitMax
	}
	if t.RetryAfterMax <= 0 {
		t.RetryAfterMax = DefaultRetryAfterMax
	}
	if t.MaxBodyBytes <= 0 {
		t.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if t.Logger == nil {
		t.Logger = slog.New(slog.DiscardHandler)
	}
}

// A BodyTooLargeError reports a response body over MaxBodyBytes.
type BodyTooLargeError struct{ Limit int64 }

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("response body exceeds the %d-byte limit", e.Limit)
}

// Kind names the error for results.jsonl: "oversized".
func (e *BodyTooLargeError) Kind() string { return "oversized" }

// An AttemptsError reports that every attempt failed without a response.
type AttemptsError struct {
	Attempts int
	Err      error
}

func (e *AttemptsError) Error() string {
	return fmt.Sprintf("%d %s failed, the last with: %v", e.Attempts, map[bool]string{true: "attempt", false: "attempts"}[e.Attempts == 1], e.Err)
}
func (e *AttemptsError) Unwrap() error { return e.Err }

// Kind names the error for results.jsonl: "timeout" when the last
// attempt ran out of time, else "network".
func (e *AttemptsError) Kind() string {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "network"
}

// RoundTrip sends req, retrying as the package comment says. The returned
// response's body is fully read, capped, redacted and replaced by an
// in-memory copy, so it outlives the attempt's deadline.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := t.body(req)
	if err != nil {
		return nil, err
	}
	resp, data, _, err := t.send(req, body, nil)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	return resp, nil
}

// send sends req with body, whose parameters are written already, with
// the retries RoundTrip makes, and, when RetryBlank is set and blank
// says a 2xx reply is blank, a retry of that reply too: every retry is
// decided and counted here, once. It returns the last response, its body
// and the attempts made.
func (t *Transport) send(req *http.Request, body []byte, blank func(data []byte) bool) (*http.Response, []byte, int, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		if t.Limiter != nil {
			if err := t.Limiter.Wait(ctx); err != nil {
				return nil, nil, attempt - 1, err
			}
		}
		t.stats.Attempts.Add(1)
		target := req
		var rep *replica
		if t.replicas != nil {
			var err error
			if rep, err = t.replicas.pick(ctx); err != nil {
				return nil, nil, attempt, &AttemptsError{Attempts: attempt, Err: err}
			}
			target = req.Clone(ctx)
			if target.URL, err = target.URL.Parse(t.replicas.url(rep, req.URL.String())); err != nil {
				rep.done(nil, err)
				return nil, nil, attempt, err
			}
			target.Host = target.URL.Host
			if holder, ok := ctx.Value(replicaKey{}).(**replica); ok {
				*holder = rep
			}
		}
		began := time.Now()
		resp, data, err := t.attempt(ctx, target, body)
		if rep != nil {
			rep.done(resp, err)
		}
		if t.observe != nil && ctx.Err() == nil {
			t.observe(status(resp), time.Since(began), err)
		}
		if ctx.Err() != nil {
			return nil, nil, attempt, context.Cause(ctx) // never retry once the caller gave up
		}
		var tooLarge *BodyTooLargeError
		if errors.As(err, &tooLarge) {
			return nil, nil, attempt, err
		}
		wait, retry := t.retryable(resp, err, attempt)
		if retry && err == nil && noVision(resp.StatusCode, apiMessage(data)) {
			retry = false // the server cannot take images: asking again cannot help
		}
		isBlank := !retry && t.RetryBlank && blank != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 && blank(data)
		if isBlank {
			wait, retry = Backoff(t.RetryWaitMin, t.RetryWaitMax, attempt), true
		}
		if !retry || attempt >= t.MaxAttempts {
			if err != nil {
				return nil, nil, attempt, &AttemptsError{Attempts: attempt, Err: err}
			}
			return resp, data, attempt, nil
		}
		t.stats.Retries.Add(1)
		if isBlank {
			t.stats.Blanks.Add(1)
		}
		if rep != nil && t.replicas.available(rep) {
			wait = 0 // another replica takes the retry now
		}
		t.Logger.Debug("retrying", "endpoint", t.Name, "attempt", attempt, "wait", wait, "status", status(resp), "err", err)
		if err := sleep(ctx, wait); err != nil {
			return nil, nil, attempt, err
		}
	}
}

// attempt sends one attempt under its own timeout and reads the whole
// body, so a slow body counts against the attempt too.
func (t *Transport) attempt(ctx context.Context, req *http.Request, body []byte) (*http.Response, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, t.CallTimeout)
	defer cancel()
	r := req.Clone(actx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := t.Base.RoundTrip(r)
	if err != nil {
		t.countErr(actx, err)
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := readBody(resp, t.MaxBodyBytes+1)
	if err != nil {
		t.countErr(actx, err)
		return nil, nil, err
	}
	if int64(len(data)) > t.MaxBodyBytes {
		return nil, nil, &BodyTooLargeError{Limit: t.MaxBodyBytes}
	}
	if t.Secret != "" {
		data = bytes.ReplaceAll(data, []byte(t.Secret), []byte("[REDACTED]"))
	}
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests:
		t.stats.Status429.Add(1)
	case c >= 500:
		t.stats.Status5xx.Add(1)
	case c >= 400:
		t.stats.Status4xx.Add(1)
	default:
		t.stats.Status2xx.Add(1)
	}
	return resp, data, nil
}

func (t *Transport) countErr(actx context.Context, err error) {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		t.stats.Timeouts.Add(1)
	} else {
		t.stats.NetErrors.Add(1)
	}
}

// retryable reports whether to retry and how long to wait first.
func (t *Transport) retryable(resp *http.Response, err error, attempt int) (time.Duration, bool) {
	if err == nil {
		switch resp.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return 0, false
		}
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, t.RetryAfterMax), true
		}
	}
	// Network errors, resets and attempt timeouts are all worth another
	// try: the caller's own context is still live (checked by the caller).
	return Backoff(t.RetryWaitMin, t.RetryWaitMax, attempt), true
}

// Backoff returns the wait before retry number attempt (1-based): a
// uniformly random duration in [0, min(max, min·2^(attempt-1))], the "full
// jitter" of exponential backoff.
func Backoff(minWait, maxWait time.Duration, attempt int) time.Duration {
	ceil := maxWait
	if attempt < 40 {
		ceil = min(maxWait, minWait<<(attempt-1))
	}
	return rand.N(ceil + 1)
}

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. It reports false for an absent or unreadable header.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s > 1e6 || s != s {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}

func status(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// readBody reads up to limit bytes of resp's body, into a buffer of the
// length the reply announces where it does, rather than one grown as
// io.ReadAll grows it.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength <= 0 || resp.ContentLength >= limit {
		return io.ReadAll(io.LimitReader(resp.Body, limit))
	}
	r := io.LimitedReader{R: resp.Body, N: limit}
	// One byte more than announced, so that reaching the end takes no
	// second buffer.
	b := make([]byte, 0, resp.ContentLength+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) { // longer than announced
			b = append(b, 0)[:len(b)]
		}
	}
}

// body reads the request body and writes Params into it.
func (t *Transport) body(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	if !strings.Contains(req.Header.Get("Content-Type"), "json") {
		return b, nil
	}
	if t.paramsErr != nil {
		return nil, t.paramsErr
	}
	if len(t.params) > 0 {
		if b, err = mergeEncoded(b, t.params); err != nil {
			return nil, err
		}
	}
	return t.blobs.expand(b), nil
}

// MergeParams writes params into the JSON object b, leaving any key b
// already has. The new members follow b's, in sorted key order, so equal
// requests have equal bodies. b is walked, not decoded: a judge prompt is
// long, and this runs for every request.
func MergeParams(b []byte, params map[string]any) ([]byte, error) {
	enc, err := encodeParams(params)
	if err != nil {
		return nil, err
	}
	return mergeEncoded(b, enc)
}

// mergeEncoded is MergeParams for parameters marshalled already.
func mergeEncoded(b []byte, params []encoded) ([]byte, error) {
	have := map[string]bool{}
	err := jsonscan.Fields(b, func([]byte) bool { return true }, func(k, _ []byte) error {
		have[string(k)] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("llm: request body is not a JSON object: %w", err)
	}
	var out []byte
	sep := len(have) > 0
	end := bytes.LastIndexByte(b, '}')
	for _, p := range params {
		if have[p.key] {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b)+32*len(params))
			out = append(out, bytes.TrimRight(b[:end], " \t\r\n")...)
		}
		if sep {
			out = append(out, ',')
		}
		sep = true
		out = jsonscan.AppendString(out, p.key, true)
		out = append(append(out, ':'), p.json...)
	}
	if out == nil {
		return b, nil
	}
	return append(out, b[end:]...), nil
}

// RedactURL removes credentials from u: the user information, and the
// values of query parameters whose names suggest a secret. It returns u
// unchanged when u does not parse.
func RedactURL(u string) string {
	u = RedactUserinfo(u)
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	if p.User != nil {
		p.User = url.User("REDACTED")
	}
	if p.RawQuery != "" {
		q := p.Query()
		for k := range q {
			lk := strings.ToLower(k)
			if strings.Contains(lk, "key") || strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "password") {
				q.Set(k, "REDACTED")
			}
		}
		p.RawQuery = q.Encode()
	}
	return p.String()
}

// userinfo matches "user:password@" (or "user@") wherever it stands in a
// string, URL or not: before a host, with or without a scheme.
var userinfo = regexp.MustCompile(`[^\s/@:"'=]+(:[^\s/@"']*)?@([\[\]A-Za-z0-9.-]+)`)

// RedactUserinfo replaces every "user:password@host" in s by
// "REDACTED@host". It does not depend on s parsing as a URL, so a setting
// without a scheme ("alice:pw@127.0.0.1:8099/v1") is redacted too.
func RedactUserinfo(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return userinfo.ReplaceAllString(s, "REDACTED@$2")
}

// RedactArgs removes credentials from URL arguments (--model-url
// http://user:pw@host/v1), so that a recorded or printed command line
// never shows them. Keys never appear in arguments: they come from the
// environment.
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if name, val, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "-") && strings.Contains(val, "://") {
			out[i] = name + "=" + RedactURL(val)
		} else if strings.Contains(a, "://") {
			out[i] = RedactURL(a)
		} else {
			out[i] = RedactUserinfo(a) // a URL without a scheme
		}
	}
	return out
}

// CheckURL checks that u is an endpoint URL psveval will call:
// http(s)://host[:port][/path], with no query or fragment. Credentials
// (http://user:pw@host, for a proxy's basic auth) are allowed, and
// redacted wherever the URL is shown; its error never quotes them.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Scheme == "" || p.Opaque != "":
		return fmt.Errorf("%q is not a URL of the form http(s)://host[:port][/path]", RedactURL(u))
	case p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("%q: the scheme must be http or https, not %q", RedactURL(u), p.Scheme)
	case p.Host == "" || p.Hostname() == "":
		return fmt.Errorf("%q has no host; want http(s)://host[:port][/path]", RedactURL(u))
	case p.RawQuery != "" || p.Fragment != "" || strings.ContainsAny(u, "?#"):
		return fmt.Errorf("%q has a query or fragment; want http(s)://host[:port][/path]", RedactURL(u))
	}
	if port := p.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %q is not a number from 1 to 65535", RedactURL(u), port)
		}
	}
	return nil
}
