package llm

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// An AIMD is a concurrency limit that finds an endpoint's knee by itself.
// It starts at a modest limit and doubles it every round trip (each
// success adds one) until the endpoint first pushes back; from then on a
// success adds 1/limit (one per round trip), and only while the limit is
// what holds requests back and the smoothed latency stays under 1.5 times
// the lowest it has been (a queue forming holds the limit where it is). A
// 429 or 503 cuts the limit to 70%, at most once per round trip. Latency
// never cuts the limit: on a loaded client (a race-detector build, a busy
// CI runner) it rises for reasons of the client's own, and a limit that
// cut on it collapsed. Callers take a slot
// with Acquire and give it back with Release; the client reports every
// HTTP attempt to Observe.
type AIMD struct {
	mu        sync.Mutex
	waiters   []chan struct{} // first come, first served
	limit     float64
	inflight  int
	min, max  float64
	rtt       float64 // smoothed latency of recent successes, seconds
	floor     float64 // the lowest rtt seen, forgotten slowly
	lastCut   time.Time
	slowStart bool
	start     time.Time
	lastTrace time.Time
	trace     []LimitPoint
}

// A LimitPoint is the limit at a moment of a run, in seconds since its
// start.
type LimitPoint struct {
	T     float64 `json:"t"`
	Limit int     `json:"limit"`
}

// NewAIMD returns a limit starting at initial, never above max.
func NewAIMD(initial, max int) *AIMD {
	a := &AIMD{limit: float64(min(initial, max)), min: 1, max: float64(max), slowStart: true, start: time.Now()}
	a.trace = []LimitPoint{{0, int(a.limit)}}
	return a
}

// Acquire waits for a slot, or reports false when ctx ends first. Waiters
// are served in order, one per free slot.
func (a *AIMD) Acquire(ctx context.Context) bool {
	a.mu.Lock()
	if a.inflight < int(a.limit) && len(a.waiters) == 0 {
		a.inflight++
		a.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	a.waiters = append(a.waiters, ch)
	a.mu.Unlock()
	select {
	case <-ch:
		return true // the slot was counted for us
	case <-ctx.Done():
		a.mu.Lock()
		defer a.mu.Unlock()
		for i, w := range a.waiters {
			if w == ch {
				a.waiters = append(a.waiters[:i], a.waiters[i+1:]...)
				return false
			}
		}
		// Handed a slot just as ctx ended: give it back.
		a.inflight--
		a.wake()
		return false
	}
}

// Release gives a slot back.
func (a *AIMD) Release() {
	a.mu.Lock()
	a.inflight--
	a.wake()
	a.mu.Unlock()
}

// wake hands free slots to waiters, in order. Call with a.mu held.
func (a *AIMD) wake() {
	for len(a.waiters) > 0 && a.inflight < int(a.limit) {
		a.inflight++
		close(a.waiters[0])
		a.waiters = a.waiters[1:]
	}
}

// Limit returns the current limit.
func (a *AIMD) Limit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.limit)
}

// Trace returns the limit's history, sampled at most every 250 ms.
func (a *AIMD) Trace() []LimitPoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]LimitPoint(nil), a.trace...)
}

// Observe takes one HTTP attempt's outcome.
func (a *AIMD) Observe(status int, latency time.Duration, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	window := max(time.Duration(a.rtt*float64(time.Second)), 50*time.Millisecond)
	cut := func(f float64) {
		if now.Sub(a.lastCut) < window {
			return
		}
		a.lastCut, a.slowStart = now, false
		a.limit = max(a.min, a.limit*f)
	}
	switch {
	case err != nil:
		// Network trouble says nothing about capacity; the retries and the
		// breaker deal with it.
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		cut(0.7)
	case status < 300:
		if l := latency.Seconds(); a.rtt == 0 {
			a.rtt = l
		} else {
			a.rtt += 0.1 * (l - a.rtt)
		}
		if a.floor == 0 || a.rtt < a.floor {
			a.floor = a.rtt
		} else {
			a.floor *= 1.0001 // forget a floor the endpoint no longer reaches
		}
		if a.rtt > 1.5*a.floor {
			break // a queue is forming: hold the limit where it is
		}
		if float64(a.inflight) < 0.8*a.limit {
			break // the limit is not what holds the requests back: no evidence for more
		}
		old := int(a.limit)
		if a.slowStart {
			a.limit = min(a.max, a.limit+1)
		} else {
			a.limit = min(a.max, a.limit+1/a.limit)
		}
		if int(a.limit) > old {
			a.wake()
		}
	}
	if now.Sub(a.lastTrace) >= 250*time.Millisecond {
		a.lastTrace = now
		a.trace = append(a.trace, LimitPoint{now.Sub(a.start).Seconds(), int(a.limit)})
	}
}
