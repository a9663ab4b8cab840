package pipeline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/internal/lines"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/rubric"
)

// ErrIncomplete reports a run whose journals lack some item's answer or
// judgment: it was interrupted, and a resume will finish it.
var ErrIncomplete = errors.New("eval: run is incomplete")

// FinalizeOptions says how to turn journals into results.
type FinalizeOptions struct {
	ModelID string
	Judges  []eval.JudgeSpec
	Rule    rubric.Rule
}

// RunTotals are totals over the records that made the results.
type RunTotals struct {
	ServedModel, ServedJudge string
	Cached                   int
}

// WriteResults walks items in order and writes one [eval.Result] per item to w, as
// JSON lines, from the answer and judgment journals. It calls add for each
// result (to aggregate it), in order. It returns ErrIncomplete, having
// written nothing useful, when any item lacks a record.
//
// The items are read in this goroutine, and results are built and encoded
// by GOMAXPROCS workers a batch at a time, then written in order: a run's
// last step has the machine to itself, and reading the journals back is
// most of its work.
func WriteResults(w io.Writer, items iter.Seq2[eval.Item, error], answers, judgments *store.Journal, opts FinalizeOptions, add func(eval.Result)) (RunTotals, error) {
	var tot RunTotals
	bw := bufio.NewWriterSize(w, 1<<16)
	batches := make(chan *resultBatch, runtime.GOMAXPROCS(0))
	ordered := make(chan *resultBatch, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for b := range batches {
				b.build(answers, judgments, opts)
				close(b.done)
			}
		})
	}
	// The writer: results in order, until the first error.
	var werr error
	var failed atomic.Bool // set by the writer: stop reading items
	written := make(chan struct{})
	go func() {
		defer close(written)
		for b := range ordered {
			<-b.done
			if werr != nil {
				continue // drain
			}
			if b.err != nil {
				werr = b.err
				failed.Store(true)
				continue
			}
			if _, err := bw.Write(b.out.Bytes()); err != nil {
				werr = err
				failed.Store(true)
				continue
			}
			for i := range b.res {
				add(b.res[i])
			}
			b.tot.apply(&tot)
		}
	}()
	var ierr error
	cur := &resultBatch{done: make(chan struct{})}
	send := func() {
		ordered <- cur
		batches <- cur
		cur = &resultBatch{done: make(chan struct{})}
	}
	for it, err := range items {
		if err != nil {
			ierr = err
			break
		}
		if failed.Load() {
			break
		}
		cur.items = append(cur.items, it)
		if len(cur.items) == resultBatchSize {
			send()
		}
	}
	if len(cur.items) > 0 {
		send()
	}
	close(batches)
	close(ordered)
	wg.Wait()
	<-written
	if werr != nil {
		return tot, werr
	}
	if ierr != nil {
		return tot, ierr
	}
	return tot, bw.Flush()
}

// resultBatchSize is how many items a WriteResults worker takes at a time.
const resultBatchSize = 64

// A resultBatch is consecutive items and, once done is closed, their
// results, encoded lines and totals, or the first error.
type resultBatch struct {
	items []eval.Item
	res   []eval.Result
	out   bytes.Buffer
	tot   totals
	err   error
	done  chan struct{}
}

func (b *resultBatch) build(answers, judgments *store.Journal, opts FinalizeOptions) {
	enc := rundir.NewResultEncoder(&b.out)
	b.res = make([]eval.Result, 0, len(b.items))
	src := journals{answers, judgments}
	for i := range b.items {
		res, err := result(&b.items[i], src, opts, &b.tot)
		if err == nil {
			err = enc.Encode(&res)
		}
		if err != nil {
			b.err = err
			return
		}
		b.res = append(b.res, res)
	}
	b.items = nil
}

// totals are what results add to RunTotals, kept apart so that batches
// built out of order apply in order: the served models are the last ones
// recorded, in item order.
type totals struct {
	model, judge       string
	setModel, setJudge bool
	cached             int
}

func (t *totals) apply(tot *RunTotals) {
	if t.setModel {
		tot.ServedModel = t.model
	}
	if t.setJudge {
		tot.ServedJudge = t.judge
	}
	tot.Cached += t.cached
}

// A recordSource finds the answer and judgment records results are built
// from, by key: found reports a record, failed that its call failed.
type recordSource interface {
	answer(key string, rec *AnswerRecord) (found, failed bool, err error)
	judgment(key string, rec *JudgmentRecord) (found, failed bool, err error)
	// answerKey is AnswerKey for the item.
	answerKey(modelID string, it *eval.Item) string
	// judgmentKey is JudgmentKey for the i-th judge, j.
	judgmentKey(i int, j *eval.JudgeSpec, it *eval.Item, answer string) string
}

// journals finds records in a run's journals.
type journals struct{ answers, judgments *store.Journal }

func (j journals) answer(key string, rec *AnswerRecord) (bool, bool, error) {
	return lookup(j.answers, key, rec)
}

func (j journals) judgment(key string, rec *JudgmentRecord) (bool, bool, error) {
	return lookup(j.judgments, key, rec)
}

func (journals) answerKey(modelID string, it *eval.Item) string { return AnswerKey(modelID, it) }

func (journals) judgmentKey(_ int, j *eval.JudgeSpec, it *eval.Item, answer string) string {
	return JudgmentKey(j.Fingerprint, it, answer)
}

// lookup reads key's record from jn: its successful call's, else its
// failed call's.
func lookup(jn *store.Journal, key string, v any) (found, failed bool, err error) {
	if ok, err := jn.Get(key, v); err != nil || ok {
		return ok, false, err
	}
	ok, err := jn.GetFailed(key, v)
	return ok, ok, err
}

// result builds it's result from the records src finds.
func result(it *eval.Item, src recordSource, opts FinalizeOptions, tot *totals) (eval.Result, error) {
	res := eval.Result{
		ID: it.ID, QuestionType: it.Type, Question: it.Question, Reference: it.Reference,
		Meta: it.Meta, Criteria: make([]eval.ResultCriterion, len(it.Rubric)), Cluster: it.Cluster,
	}
	labels := rubric.Labels(it.Rubric)
	for i, c := range it.Rubric {
		res.Criteria[i] = eval.ResultCriterion{Dim: labels[i], Points: c.Points}
	}
	var ans AnswerRecord
	key := src.answerKey(opts.ModelID, it)
	ok, failed, err := src.answer(key, &ans)
	if err != nil || !ok {
		return res, cmpErr(err, fmt.Errorf("%w: item %q has no answer", ErrIncomplete, it.ID))
	}
	if failed {
		// An item whose last attempt failed is an error; a resume retries it.
		res.Status, res.Error, res.ErrorKind = eval.StatusError, "answer: "+ans.Error, ans.ErrorKind
		return res, nil
	}
	res.Answer, res.FinishReason = ans.Text, ans.FinishReason
	res.Usage.Model = ans.Usage
	res.LatencyMS = ans.LatencyMS
	tot.model, tot.setModel = ans.Model, true
	var verdicts []eval.Verdict
	for i, j := range opts.Judges {
		var jr JudgmentRecord
		jkey := src.judgmentKey(i, &j, it, ans.Text)
		ok, failed, err := src.judgment(jkey, &jr)
		if err != nil || !ok {
			return res, cmpErr(err, fmt.Errorf("%w: item %q has no judgment by %s", ErrIncomplete, it.ID, j.Name))
		}
		if failed {
			res.Status, res.Error, res.ErrorKind = eval.StatusError, "judge "+j.Name+": "+jr.Error, jr.ErrorKind
			return res, nil
		}
		if len(jr.Criteria) != len(it.Rubric) {
			return res, fmt.Errorf("item %q: judgment %s has %d criteria for a rubric of %d", it.ID, jkey[:12], len(jr.Criteria), len(it.Rubric))
		}
		res.Usage.Judge.Add(jr.Usage)
		res.JudgeLatencyMS += jr.LatencyMS
		if jr.Cached {
			tot.cached++
		}
		tot.judge, tot.setJudge = jr.Model, true
		verdicts = append(verdicts, jr.Verdict)
	}
	served := make([]string, 0, len(verdicts))
	for _, v := range verdicts {
		served = append(served, strings.TrimSpace(v.Model+" "+v.Fingerprint))
	}
	res.JudgeServed = strings.Join(served, "; ")
	met, reason := combine(verdicts)
	for i := range res.Criteria {
		res.Criteria[i].Met = met[i]
		if len(verdicts) == 1 {
			res.Criteria[i].Explanation = verdicts[0].Criteria[i].Explanation
		}
	}
	if len(verdicts) > 1 {
		for i, v := range verdicts {
			res.Judges = append(res.Judges, eval.JudgeVote{Judge: opts.Judges[i].Name, Met: v.Met()})
		}
	}
	score, allPassed, scored := opts.Rule.Score(it.Rubric, met)
	if !scored {
		res.Status, res.Unscorable = eval.StatusUnscored, reason
		return res, nil
	}
	res.Status, res.Score, res.AllMet = eval.StatusOK, &score, &allPassed
	return res, nil
}

// combine merges the verdicts of one or more judges: a criterion's verdict
// is the majority of the judges that scored it; a tie, or no judge
// scoring it, leaves it unscorable.
func combine(vs []eval.Verdict) ([]*bool, string) {
	if len(vs) == 1 {
		return vs[0].Met(), vs[0].Unscorable
	}
	n := len(vs[0].Criteria)
	met := make([]*bool, n)
	reason := ""
	for c := range n {
		yes, no := 0, 0
		for _, v := range vs {
			switch m := v.Criteria[c].Met; {
			case m == nil:
			case *m:
				yes++
			default:
				no++
			}
		}
		switch {
		case yes > no:
			t := true
			met[c] = &t
		case no > yes:
			f := false
			met[c] = &f
		case yes == 0:
			reason = "no judge could score a criterion"
		default:
			reason = "the judges tied on a criterion"
		}
	}
	return met, reason
}

// cmpErr returns err when it is not nil, else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// CountCalls adds up what every call recorded in the journals took, per
// endpoint: "model", "judge" (all judges), and "judge:NAME" for each judge
// when there are several. Every line counts, failed calls and calls a
// resume redid included, across all the processes that worked on the run;
// verdicts from the cross-run cache cost nothing and are left out. So the
// counts are what the endpoints really received.
func CountCalls(answers, judgments *store.Journal, judges []eval.JudgeSpec) (map[string]eval.CallCounts, error) {
	calls := map[string]eval.CallCounts{"model": {}, "judge": {}}
	type line struct {
		Calls  eval.CallCounts `json:"calls"`
		Judge  string          `json:"judge"`
		Error  string          `json:"error"`
		Cached bool            `json:"cached"`
	}
	add := func(key string, l *line) {
		c := calls[key]
		c.Add(l.Calls)
		if l.Error != "" {
			c.Failed++
		}
		calls[key] = c
	}
	err := answers.Scan(func(b []byte) error {
		var l line
		if err := lines.ReadRecord(b, &l.Calls, &l.Judge, &l.Error, &l.Cached); err != nil {
			return err
		}
		add("model", &l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = judgments.Scan(func(b []byte) error {
		var l line
		if err := lines.ReadRecord(b, &l.Calls, &l.Judge, &l.Error, &l.Cached); err != nil {
			return err
		}
		if l.Cached {
			return nil
		}
		add("judge", &l)
		if len(judges) > 1 {
			add("judge:"+l.Judge, &l)
		}
		return nil
	})
	return calls, err
}
