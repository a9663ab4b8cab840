// Package cmdline holds what psveval's commands share that is about the
// command line, not about evaluation: flag values, the YAML config file
// that sets flags, usage errors and their exit code, and terminal output
// that wraps at the terminal's width. It is to cmd/psveval what
// cmd/go/internal/cmdflag and base are to cmd/go, and cli/cli's cmdutil
// and iostreams are to gh: every evaluation rule lives in the library
// packages, and a command parses flags (here), calls one of them, and
// renders what comes back.
package cmdline

import (
	"errors"
	"fmt"
)

// A UsageError is a mistake in the command line or configuration: exit 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage marks err as a usage error.
func Usage(err error) error { return &UsageError{err} }

// Usagef returns a usage error with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// A PrintedError is an error already printed where it happened (the flag
// package prints its own; a stopped run prints why with what it saved):
// main does not print it again. Its exit code is the wrapped error's.
type PrintedError struct{ Err error }

func (e *PrintedError) Error() string { return e.Err.Error() }
func (e *PrintedError) Unwrap() error { return e.Err }

// Printed marks err as printed already.
func Printed(err error) error { return &PrintedError{err} }

// AlreadyPrinted reports whether err was printed where it happened.
func AlreadyPrinted(err error) bool {
	_, ok := errors.AsType[*PrintedError](err)
	return ok
}
