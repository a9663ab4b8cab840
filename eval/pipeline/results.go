package pipeline

import (
	"errors"
	"io"
	"path/filepath"
	"sync"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
)

// A resultsWriter writes results.jsonl beside the run instead of after
// it, from what the runner hands over: each finished item with the
// records it made (Runner.Done), so the dataset is not walked again and
// the journals are read only for records an earlier run made. Items
// finish out of order; the writer holds the early ones until those
// before them come, and writes in dataset order, in the goroutine that
// hands over the item that comes next (no goroutine of its own to wake
// for each item). Should an item not be handed over, the writer falls
// back to the whole journals, as the results were written before: the
// journals stay the record.
type resultsWriter struct {
	src   journals
	opts  FinalizeOptions
	total int
	// whole writes the results from the whole journals: the fallback.
	whole func() resultsWritten

	mu      sync.Mutex // guards what follows
	file    *store.AtomicFile
	enc     *rundir.ResultEncoder
	pending map[int]Finished
	next    int
	res     resultsWritten
}

// resultsWritten is what writing results.jsonl gave.
type resultsWritten struct {
	agg *stats.Aggregator
	tot RunTotals
	err error
}

// errStopped ends the results of a run that did not finish.
var errStopped = errors.New("pipeline: the run stopped before its results were written")

// errMissed reports an item the runner did not hand over.
var errMissed = errors.New("pipeline: an item was not handed to the results writer")

// startResults starts writing the run directory's results.jsonl for a
// run of total items; the outcome comes on the channel finish returns.
func (j *Job) startResults(answers, judgments *store.Journal, total int) *resultsWriter {
	path := filepath.Join(j.Dir, rundir.ResultsFile)
	rw := &resultsWriter{
		src: journals{answers, judgments}, total: total, pending: map[int]Finished{},
		opts: FinalizeOptions{ModelID: j.Manifest.Model.ModelID(), Judges: j.Judges, Rule: j.Rule},
		res:  resultsWritten{agg: stats.NewAggregator(stats.AggregateOptions{})},
	}
	rw.whole = func() resultsWritten {
		res := resultsWritten{agg: stats.NewAggregator(stats.AggregateOptions{})}
		res.err = store.WriteFileFunc(path, func(w io.Writer) error {
			var err error
			res.tot, err = WriteResults(w, j.Dataset.Again(), answers, judgments, rw.opts, res.agg.Add)
			return err
		})
		return res
	}
	rw.file, rw.res.err = store.CreateAtomic(path)
	if rw.res.err == nil {
		rw.enc = rundir.NewResultEncoder(rw.file)
	}
	return rw
}

// add hands the writer a finished item, and writes every result it
// completes in order. Runner.Done calls it; it is safe for concurrent
// use.
func (rw *resultsWriter) add(f Finished) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.res.err != nil {
		return
	}
	rw.pending[f.N] = f
	for {
		g, ok := rw.pending[rw.next]
		if !ok {
			return
		}
		delete(rw.pending, rw.next)
		var t totals
		r, rerr := result(&g.Item, handed{&g, rw.src}, rw.opts, &t)
		if rerr == nil {
			rerr = rw.enc.Encode(&r)
		}
		if rerr != nil {
			rw.res.err = rerr
			return
		}
		rw.res.agg.Add(r)
		t.apply(&rw.res.tot)
		rw.next++
	}
}

// finish says the run is over, well (ok) or not; no add may follow. The
// file is committed, or removed, and the outcome sent, off the caller's
// goroutine.
func (rw *resultsWriter) finish(ok bool) <-chan resultsWritten {
	rw.mu.Lock()
	res := rw.res
	switch {
	case res.err != nil:
	case !ok:
		res.err = errStopped
	case rw.next != rw.total:
		res.err = errMissed
	}
	rw.mu.Unlock()
	out := make(chan resultsWritten, 1)
	go func() {
		switch {
		case rw.file == nil:
		case res.err == nil:
			res.err = rw.file.Commit()
		default:
			rw.file.Abort()
		}
		if errors.Is(res.err, errMissed) {
			res = rw.whole()
		}
		out <- res
	}()
	return out
}

// handed finds the records the runner handed over with an item, and the
// rest in the journals.
type handed struct {
	f *Finished
	journals
}

func (h handed) answer(key string, rec *AnswerRecord) (bool, bool, error) {
	if a := h.f.Answer; a != nil && a.Key == key {
		*rec = *a
		return true, a.Error != "", nil
	}
	return h.journals.answer(key, rec)
}

func (h handed) judgment(key string, rec *JudgmentRecord) (bool, bool, error) {
	if jr, ok := h.f.Judgments[key]; ok {
		*rec = *jr
		return true, jr.Error != "", nil
	}
	return h.journals.judgment(key, rec)
}

// answerKey is the key of the answer the runner handed over.
func (h handed) answerKey(modelID string, it *eval.Item) string {
	if h.f.Answer != nil {
		return h.f.Answer.Key
	}
	return h.journals.answerKey(modelID, it)
}

// judgmentKey is the key the runner hashed, where it did.
func (h handed) judgmentKey(i int, j *eval.JudgeSpec, it *eval.Item, answer string) string {
	if i < len(h.f.keys) {
		return h.f.keys[i]
	}
	return h.journals.judgmentKey(i, j, it, answer)
}
