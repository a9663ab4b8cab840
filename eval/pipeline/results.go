package pipeline

import (
	"bufio"
	"errors"
	"io"
	"path/filepath"

	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
)

// A resultsWriter writes results.jsonl beside the run instead of after
// it, from what the runner hands over: each finished item with the
// records it made (Runner.Done), so the dataset is not walked again and
// the journals are read only for records an earlier run made. Items
// finish out of order; the writer holds the early ones until those
// before them come, and writes in dataset order. Should an item not be
// handed over, the writer falls back to the whole journals, as the
// results were written before: the journals stay the record.
type resultsWriter struct {
	in  chan Finished
	ok  bool // set before in is closed: the run ended well
	out chan resultsWritten
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
// run of total items; the outcome comes on the writer's out channel once
// finish is called.
func (j *Job) startResults(answers, judgments *store.Journal, total int) *resultsWriter {
	rw := &resultsWriter{in: make(chan Finished, 256), out: make(chan resultsWritten, 1)}
	opts := FinalizeOptions{ModelID: j.Manifest.Model.ModelID(), Judges: j.Judges, Rule: j.Rule}
	src := journals{answers, judgments}
	path := filepath.Join(j.Dir, rundir.ResultsFile)
	go func() {
		res := resultsWritten{agg: stats.NewAggregator(stats.AggregateOptions{})}
		res.err = store.WriteFileFunc(path, func(w io.Writer) error { return rw.write(w, src, opts, total, &res) })
		if errors.Is(res.err, errMissed) {
			res = resultsWritten{agg: stats.NewAggregator(stats.AggregateOptions{})}
			res.err = store.WriteFileFunc(path, func(w io.Writer) error {
				var err error
				res.tot, err = WriteResults(w, j.Dataset.Again(), answers, judgments, opts, res.agg.Add)
				return err
			})
		}
		rw.out <- res
	}()
	return rw
}

// add hands the writer a finished item. Runner.Done calls it.
func (rw *resultsWriter) add(f Finished) { rw.in <- f }

// finish says the run is over, well (ok) or not; no add may follow.
func (rw *resultsWriter) finish(ok bool) <-chan resultsWritten {
	rw.ok = ok
	close(rw.in)
	return rw.out
}

// write writes the results in order as their items come, until the run
// is over. After an error it drains what still comes, so no runner
// goroutine waits on it.
func (rw *resultsWriter) write(w io.Writer, src journals, opts FinalizeOptions, total int, res *resultsWritten) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := rundir.ResultEncoder(bw)
	pending := map[int]Finished{}
	next := 0
	var err error
	for f := range rw.in {
		if err != nil {
			continue
		}
		pending[f.N] = f
		for err == nil {
			g, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			var t totals
			r, rerr := result(&g.Item, handed{&g, src}, opts, &t)
			if err = cmpErr(rerr, enc.Encode(r)); err == nil && rerr == nil {
				res.agg.Add(r)
				t.apply(&res.tot)
				next++
			}
		}
	}
	switch {
	case !rw.ok:
		return errStopped
	case err != nil:
		return err
	case next != total:
		return errMissed
	}
	return bw.Flush()
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
