package pipeline

import (
	"context"
	"sync"
)

// flights makes sure one key is worked on by one goroutine at a time, so
// two items that need the same answer or judgment at the same moment pay
// for it once: the second waits for the first, then finds it recorded.
type flights struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// acquire returns a release function once the caller holds key; calling
// it more than once is harmless. It returns nil if ctx ends first.
func (f *flights) acquire(ctx context.Context, key string) func() {
	for {
		f.mu.Lock()
		if f.m == nil {
			f.m = map[string]chan struct{}{}
		}
		ch, busy := f.m[key]
		if !busy {
			ch = make(chan struct{})
			f.m[key] = ch
			f.mu.Unlock()
			return sync.OnceFunc(func() {
				f.mu.Lock()
				delete(f.m, key)
				f.mu.Unlock()
				close(ch)
			})
		}
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
	}
}
