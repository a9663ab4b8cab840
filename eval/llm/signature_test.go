package llm

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o deadline" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return false }

// TestSignature: the breaker tells network failures apart by what the
// errors are (errnos, net.Error, *net.DNSError, io.EOF), never by their
// text: a message that merely says "connection refused" is its own
// signature.
func TestSignature(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error {
		return &AttemptsError{Attempts: 3, Err: &url.Error{Op: "Post", URL: "http://x/v1", Err: err}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused", wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "connection refused or reset"},
		{"reset", wrap(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), "connection refused or reset"},
		{"EOF", wrap(io.EOF), "connection refused or reset"},
		{"unexpected EOF", wrap(io.ErrUnexpectedEOF), "connection refused or reset"},
		{"deadline", wrap(context.DeadlineExceeded), "timeout"},
		{"net timeout", wrap(timeoutErr{}), "timeout"},
		{"no such host", wrap(&net.DNSError{Err: "no such host", Name: "nowhere", IsNotFound: true}), "no such host"},
		{"text only", wrap(errors.New("proxy said: connection refused, timeout, EOF")), `3 attempts failed, the last with: Post "http://x/v1": proxy said: connection refused, timeout, EOF`},
		{"not after retries", errors.New("connection refused"), ""},
	} {
		if got := signature(tc.err); got != tc.want {
			t.Errorf("%s: signature = %q, want %q", tc.name, got, tc.want)
		}
	}
}
