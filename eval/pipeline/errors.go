package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/psveval/psveval/eval/llm"
)

func fatal(err error) bool {
	if _, ok := errors.AsType[*llm.BreakerError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*llm.ReplicaMismatchError](err); ok {
		return true
	}
	se, ok := errors.AsType[*llm.StatusError](err)
	return ok && se.Fatal()
}

// ErrorKind classifies an item error for results.jsonl: "http_<status>",
// "oversized", "timeout", "network", "blank", "image" or "error".
func ErrorKind(err error) string {
	if se, ok := errors.AsType[*llm.StatusError](err); ok {
		return fmt.Sprintf("http_%d", se.Status)
	}
	if _, ok := errors.AsType[*llm.BodyTooLargeError](err); ok {
		return "oversized"
	}
	if errors.Is(err, ErrBlank) {
		return "blank"
	}
	if _, ok := errors.AsType[*ImageError](err); ok {
		return "image"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if _, ok := errors.AsType[*llm.AttemptsError](err); ok {
		return "network"
	}
	return "error"
}

// ErrBlank reports a completion that stayed blank after every retry.
var ErrBlank = errors.New("the model returned a blank answer on every attempt")

// An ImageError reports an image that could not be read for a request.
type ImageError struct{ Err error }

func (e *ImageError) Error() string { return "image: " + e.Err.Error() }
func (e *ImageError) Unwrap() error { return e.Err }
