package llm

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A replica is one server of a model served several times over.
type replica struct {
	base        string // API root, as BaseURL
	outstanding atomic.Int64
	requests    atomic.Int64
	failures    atomic.Int64

	mu         sync.Mutex
	downUntil  time.Time // out of rotation until then
	strikes    int       // failures in a row, for the cool-down's backoff
	recovering bool      // after a cool-down: one request at a time until one succeeds
	served     string    // the model id it first answered as
}

// A replicaSet routes each attempt to the healthy replica with the fewest
// requests outstanding. A replica that fails (a network error, a reset, a
// 5xx) cools down with backoff, then takes one probe request at a time
// until one succeeds.
type replicaSet struct {
	rs      []*replica
	primary string // the BaseURL requests are built against
	wait    time.Duration
}

func newReplicaSet(primary string, bases []string, wait time.Duration) *replicaSet {
	s := &replicaSet{primary: strings.TrimRight(primary, "/"), wait: wait}
	for _, b := range append([]string{primary}, bases...) {
		s.rs = append(s.rs, &replica{base: strings.TrimRight(b, "/")})
	}
	return s
}

// pick returns the replica for the next attempt, waiting for one to come
// out of its cool-down; it fails when none is healthy for longer than the
// set's wait (the call timeout).
func (s *replicaSet) pick(ctx context.Context) (*replica, error) {
	deadline := time.Now().Add(s.wait)
	for {
		var best *replica
		var next time.Time
		now := time.Now()
		for _, r := range s.rs {
			r.mu.Lock()
			up := !now.Before(r.downUntil) && (!r.recovering || r.outstanding.Load() == 0)
			if !up && (next.IsZero() || r.downUntil.Before(next)) && now.Before(r.downUntil) {
				next = r.downUntil
			}
			r.mu.Unlock()
			if up && (best == nil || r.outstanding.Load() < best.outstanding.Load()) {
				best = r
			}
		}
		if best != nil {
			best.outstanding.Add(1)
			best.requests.Add(1)
			return best, nil
		}
		if now.After(deadline) {
			return nil, fmt.Errorf("no replica of %s is healthy: every one failed and none recovered within %s", s.primary, s.wait)
		}
		d := 50 * time.Millisecond
		if !next.IsZero() {
			d = min(max(time.Until(next), time.Millisecond), time.Until(deadline)+time.Millisecond)
		}
		if err := sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// done records an attempt's outcome on r.
func (r *replica) done(resp *http.Response, err error) {
	r.outstanding.Add(-1)
	failed := err != nil || (resp != nil && resp.StatusCode >= 500)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !failed {
		r.strikes, r.recovering = 0, false
		return
	}
	r.failures.Add(1)
	r.strikes++
	r.recovering = true
	r.downUntil = time.Now().Add(min(30*time.Second, 250*time.Millisecond<<min(r.strikes-1, 10)))
}

// url returns the request's URL on r.
func (s *replicaSet) url(r *replica, u string) string {
	return r.base + strings.TrimPrefix(u, s.primary)
}

// available reports whether some replica other than r can take an
// attempt now, so a retry need not wait.
func (s *replicaSet) available(r *replica) bool {
	now := time.Now()
	for _, o := range s.rs {
		o.mu.Lock()
		up := o != r && !now.Before(o.downUntil)
		o.mu.Unlock()
		if up {
			return true
		}
	}
	return false
}

// ReplicaStats counts one replica's traffic.
type ReplicaStats struct {
	URL      string `json:"url"`
	Requests int64  `json:"requests"`
	Failures int64  `json:"failures"`
	Served   string `json:"served_model,omitempty"`
}

// A ReplicaMismatchError reports replicas that answer as different
// models: they are not replicas of one model.
type ReplicaMismatchError struct {
	A, B             string // redacted URLs
	ServedA, ServedB string
}

func (e *ReplicaMismatchError) Error() string {
	return fmt.Sprintf("the replicas serve different models: %s answers as %q, %s as %q; give --model-url only for replicas of one model", e.A, e.ServedA, e.B, e.ServedB)
}

// Fatal reports true: a run against replicas of different models stops.
func (e *ReplicaMismatchError) Fatal() bool { return true }

type replicaKey struct{}

// withReplica lets the transport say which replica served a request.
func withReplica(ctx context.Context, r **replica) context.Context {
	return context.WithValue(ctx, replicaKey{}, r)
}

// served records that r answered as model, and returns a mismatch when
// another replica answered as another model.
func (s *replicaSet) served(r *replica, model string) *ReplicaMismatchError {
	r.mu.Lock()
	if r.served == "" {
		r.served = model
	}
	r.mu.Unlock()
	for _, o := range s.rs {
		o.mu.Lock()
		other := o.served
		o.mu.Unlock()
		if other != "" && other != model {
			return &ReplicaMismatchError{A: RedactURL(o.base), B: RedactURL(r.base), ServedA: other, ServedB: model}
		}
	}
	return nil
}

// MarkDown takes the replica at base out of rotation as a failed one is:
// it cools down, then takes one probe request at a time until one
// succeeds. Preflight marks a replica that does not answer at start, so
// the run goes on with the others.
func (c *Client) MarkDown(base string) {
	s := c.transport.replicas
	if s == nil {
		return
	}
	for _, r := range s.rs {
		if r.base == strings.TrimRight(base, "/") {
			r.mu.Lock()
			r.strikes++
			r.recovering = true
			r.downUntil = time.Now().Add(min(30*time.Second, 250*time.Millisecond<<min(r.strikes-1, 10)))
			r.mu.Unlock()
		}
	}
}
