package pipeline

import (
	"errors"
	"io"
	"iter"
	"path/filepath"
	"sync"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
)

// A follower lets results.jsonl be written beside the run instead of
// after it: a second walk of the dataset yields each item once the run
// has finished it (Runner.Done), so the results trail the run by the
// items in flight and are written soon after its last judgment. Which
// items are done is only a hint: once the run ends, every item counts as
// done, and results come from the journals as they always did. So a
// missed hint delays a result to the end of the run, and can change
// nothing in it.
type follower struct {
	mu      sync.Mutex
	cond    *sync.Cond
	done    []bool // by position
	waiting int    // the position the walk waits for
	all     bool   // the run ended well: every item is done
	stopped bool   // the run stopped: the walk gives up
}

// errStopped ends the results walk of a run that did not finish.
var errStopped = errors.New("pipeline: the run stopped before its results were written")

func newFollower() *follower {
	f := &follower{waiting: -1}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// mark records that the item at position n is done.
func (f *follower) mark(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n >= len(f.done) {
		f.done = append(f.done, make([]bool, n+1-len(f.done))...)
	}
	f.done[n] = true
	if n == f.waiting {
		f.cond.Signal()
	}
}

// end says how the run ended: well (every item is done) or not.
func (f *follower) end(ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.all, f.stopped = ok, !ok
	f.cond.Broadcast()
}

// wait waits until the item at position n is done; it reports false when
// the run stopped first.
func (f *follower) wait(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting = n
	for !f.all && !f.stopped && (n >= len(f.done) || !f.done[n]) {
		f.cond.Wait()
	}
	return !f.stopped
}

// items yields all's items, each once the run has done it.
func (f *follower) items(all iter.Seq2[eval.Item, error]) iter.Seq2[eval.Item, error] {
	return func(yield func(eval.Item, error) bool) {
		n := 0
		for it, err := range all {
			if err != nil {
				yield(it, err)
				return
			}
			if !f.wait(n) {
				yield(eval.Item{}, errStopped)
				return
			}
			if !yield(it, nil) {
				return
			}
			n++
		}
	}
}

// resultsWritten is what writing results.jsonl gave.
type resultsWritten struct {
	agg *stats.Aggregator
	tot RunTotals
	err error
}

// writeResults starts writing the run directory's results.jsonl from the
// journals, item by item as f lets the walk go on; the outcome comes on
// the channel once the walk is over (or given up).
func (j *Job) writeResults(answers, judgments *store.Journal, f *follower) <-chan resultsWritten {
	ch := make(chan resultsWritten, 1)
	go func() {
		out := resultsWritten{agg: stats.NewAggregator(stats.AggregateOptions{})}
		out.err = store.WriteFileFunc(filepath.Join(j.Dir, rundir.ResultsFile), func(w io.Writer) error {
			var err error
			out.tot, err = WriteResults(w, f.items(j.Dataset.Again()), answers, judgments, FinalizeOptions{
				ModelID: j.Manifest.Model.ModelID(), Judges: j.Judges, Rule: j.Rule,
			}, out.agg.Add)
			return err
		})
		ch <- out
	}()
	return ch
}
