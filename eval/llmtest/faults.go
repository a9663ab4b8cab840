package llmtest

import (
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// Latency is a response-time distribution.
type Latency struct {
	// Mean is the mean latency.
	Mean time.Duration
	// Dist is "fixed" (the default), "uniform" (over [0, 2·Mean]) or
	// "exp" (exponential).
	Dist string
}

func (l Latency) draw(r *rand.Rand) time.Duration {
	switch l.Dist {
	case "uniform":
		return time.Duration(r.Float64() * 2 * float64(l.Mean))
	case "exp":
		return time.Duration(r.ExpFloat64() * float64(l.Mean))
	}
	return l.Mean
}

// Faults are injection rates, each a probability per request in [0, 1].
// Status faults apply before any content; content faults (Blank, Malformed,
// Think) apply to successful replies.
type Faults struct {
	RateLimit   float64 // 429 with Retry-After: RetryAfter
	Error500    float64
	Unavailable float64 // 503
	Reset       float64 // the connection is reset without a response
	Slow        float64 // the reply comes after SlowDelay
	Blank       float64 // empty content, finish_reason stop
	Malformed   float64 // the judge's JSON is cut off
	Think       float64 // a <think> block precedes the judge's JSON
	// RetryAfter is the Retry-After header value sent with 429 (default "1").
	RetryAfter string
	// SlowDelay is how late a slow reply is (default 3s).
	SlowDelay time.Duration
}

// pause waits d or until the client goes away, reporting whether to go on.
func pause(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-t.C:
		return true
	}
}

// reset closes the connection with an RST, without a response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}
