package pipeline

import (
	"context"
	"errors"
	"strings"
)

// A fataler is an error that may doom every later request of a run, so
// that the run must stop: a refused key, a tripped breaker, replicas of
// different models. The endpoint client's errors say so themselves.
type fataler interface {
	error
	Fatal() bool
}

// A kinder is an error that names its kind for results.jsonl.
type kinder interface {
	error
	Kind() string
}

// A contextExceeder is an error that can say whether the server refused a
// prompt longer than its context.
type contextExceeder interface {
	error
	ContextExceeded() bool
}

// A statusError is an error response with its HTTP status.
type statusError interface {
	error
	HTTPStatus() int
}

func fatal(err error) bool {
	f, ok := errors.AsType[fataler](err)
	return ok && f.Fatal()
}

// ErrorKind classifies an item error for results.jsonl: "http_<status>",
// "oversized", "timeout", "network", "blank", "image" or "error". An
// error in the chain that names its kind (Kind() string) decides it.
func ErrorKind(err error) string {
	if k, ok := errors.AsType[kinder](err); ok {
		return k.Kind()
	}
	switch {
	case errors.Is(err, ErrBlank):
		return "blank"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

// ErrBlank reports a completion that stayed blank after every retry.
var ErrBlank = errors.New("the model returned a blank answer on every attempt")

// An ImageError reports an image that could not be read for a request.
type ImageError struct{ Err error }

func (e *ImageError) Error() string { return "image: " + e.Err.Error() }
func (e *ImageError) Unwrap() error { return e.Err }

// Kind names the error for results.jsonl: "image".
func (e *ImageError) Kind() string { return "image" }

// oneLine keeps a stored error to one line of at most 500 characters:
// an endpoint's HTML page or multi-line trace would otherwise fill
// results.jsonl and every report that quotes it.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 500 {
		s = string(r[:500]) + "…"
	}
	return s
}
