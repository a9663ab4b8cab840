package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/internal/lines"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/rubric"
	"github.com/sourcegraph/conc/pool"
)

// An AnswerRecord is one line of answers.jsonl.
type AnswerRecord struct {
	Key  string `json:"key"`
	Item string `json:"item"`
	eval.Answer
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
}

// A JudgmentRecord is one line of judgments.jsonl, and a cache entry.
type JudgmentRecord struct {
	Key   string `json:"key"`
	Item  string `json:"item"`
	Judge string `json:"judge"`
	eval.Verdict
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
	// Cached is true when the verdict came from the cross-run cache.
	Cached bool `json:"cached,omitempty"`
}

// AppendJSON appends the record as one JSON line's text, as json.Marshal
// writes it, without reflection: the journal's hot path.
func (r *AnswerRecord) AppendJSON(b []byte) []byte {
	return lines.AppendAnswer(b, r.Key, r.Item, &r.Answer, r.LatencyMS, r.Error, r.ErrorKind)
}

// AppendJSON appends the record as json.Marshal writes it.
func (r *JudgmentRecord) AppendJSON(b []byte) []byte {
	return lines.AppendJudgment(b, r.Key, r.Item, r.Judge, &r.Verdict, r.LatencyMS, r.Error, r.ErrorKind, r.Cached)
}

// AnswerKey identifies an answer by what determines it under greedy
// decoding: the model's identity (its id, sampling parameters and prompt
// settings, hashed by the caller into modelID), the question and the
// images' digests.
func AnswerKey(modelID string, it *eval.Item) string {
	// "answer\x00MODEL\x00LEN:QUESTION" and "\x00DIGEST" per image,
	// written without fmt.
	bp := keyBufs.Get().(*[]byte)
	b := append(append(append((*bp)[:0], "answer\x00"...), modelID...), 0)
	b = append(append(strconv.AppendInt(b, int64(len(it.Question)), 10), ':'), it.Question...)
	for _, im := range it.Images {
		b = append(append(b, 0), im.SHA256...)
	}
	return hashKey(bp, b)
}

// hashKey returns the hex SHA-256 of b, and puts b back in keyBufs as bp.
func hashKey(bp *[]byte, b []byte) string {
	sum := sha256.Sum256(b)
	if cap(b) <= 1<<20 {
		*bp = b
		keyBufs.Put(bp)
	}
	return hex.EncodeToString(sum[:])
}

// JudgmentKey identifies a judgment by what determines it: the judge's
// fingerprint, the question, the reference, the rubric and the answer.
func JudgmentKey(judgeFP string, it *eval.Item, answer string) string {
	// Each field is "LEN:FIELD\x00", in one buffer hashed at once; the
	// rubric's JSON is written first and its length put before it after.
	bp := keyBufs.Get().(*[]byte)
	b := (*bp)[:0]
	for _, s := range [...]string{"judgment", judgeFP, it.Question, it.Reference} {
		b = appendKeyField(b, s)
	}
	at := len(b)
	b = rubric.AppendJSON(b, it.Rubric)
	var num [24]byte
	prefix := append(strconv.AppendInt(num[:0], int64(len(b)-at), 10), ':')
	b = append(b, prefix...)
	copy(b[at+len(prefix):], b[at:len(b)-len(prefix)])
	copy(b[at:], prefix)
	return hashKey(bp, appendKeyField(append(b, 0), answer))
}

// keyBufs holds the buffers judgment keys are written in.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// appendKeyField appends "LEN:S\x00".
func appendKeyField(b []byte, s string) []byte {
	return append(append(append(strconv.AppendInt(b, int64(len(s)), 10), ':'), s...), 0)
}

// CacheKey is a judgment's key in the cross-run cache: its key (see
// [JudgmentKey]: the judge's model, parameters, prompt, the item and the
// answer) with the normalised URL of the server that judged it, so the
// same model name served elsewhere is asked afresh.
func CacheKey(judgmentKey, endpoint string) string {
	if endpoint == "" {
		return judgmentKey
	}
	h := sha256.Sum256([]byte("cache\x00" + judgmentKey + "\x00" + endpoint))
	return hex.EncodeToString(h[:])
}

// Progress counts a run's work as it happens. Its fields are safe to read
// while the run goes on.
type Progress struct {
	Total                         atomic.Int64
	Answered, Judged              atomic.Int64
	AnswersResumed, JudgedResumed atomic.Int64
	JudgedCached                  atomic.Int64
	Errors                        atomic.Int64
	// spent reports this process's spend in USD so far, when the job's
	// prices were given; see SpentUSD.
	spent atomic.Pointer[func() float64]
}

// SpentUSD returns what this process has spent so far at the job's
// prices, and false when no price was given.
func (p *Progress) SpentUSD() (float64, bool) {
	f := p.spent.Load()
	if f == nil {
		return 0, false
	}
	return (*f)(), true
}

// A Runner answers and judges every item of a dataset, recording each
// answer and judgment in its journals as it completes. Answering and
// judging run in two bounded pools: an item leaves the answer pool for the
// judge pool as soon as it is answered, so both endpoints stay busy, and a
// full judge pool holds back the answer pool, so memory holds at most
// 2·(Concurrency + JudgeConcurrency) items.
//
// Each pool has twice as many workers as its endpoint has request slots,
// and a worker holds a slot only while its request is in flight: journaling
// a result (an fsync) then happens off the endpoint's critical path, and
// the endpoint always has Concurrency (JudgeConcurrency) requests in flight
// while work remains.
//
// Per-item failures are data, recorded with the item; only a fatal
// endpoint error (see [llm.StatusError.Fatal]), a journal that cannot be
// written, or cancellation stops a run.
type Runner struct {
	Model eval.Model
	// ModelID identifies the model's answers; see [AnswerKey].
	ModelID string
	Judges  []eval.JudgeSpec
	// Concurrency and JudgeConcurrency cap the requests in flight to the
	// model and to the judges; with ModelLimit or JudgeLimit set, they are
	// the most those limiters allow, and the limiters decide.
	Concurrency, JudgeConcurrency int
	ModelLimit, JudgeLimit        Limiter
	Answers, Judgments            *store.Journal
	// Cache, when set, holds judgments across runs.
	Cache    *store.Cache
	Logger   *slog.Logger
	Progress *Progress
	// Done, when set, is told of each item whose answer and judgments
	// are all in the journals, done now or by an earlier run: its
	// position and the records this run made or read for it (see
	// [Finished]). It is called once an item, from many goroutines, and
	// not for work cut short.
	Done func(Finished)

	inflight               flights
	modelSlots, judgeSlots Limiter
	// budget, when set, admits each answer and judgment (--max-cost);
	// halted holds why the run stopped starting work.
	budget *budget
	halted atomic.Pointer[error]
}

// A FatalError is a run-level failure from an endpoint: the run stopped.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// Run evaluates every item of items not already in the journals. It stops
// at the first error items yields, and returns it. It returns
// nil when every item has an answer record and, where answered, judgment
// records; a *FatalError when an endpoint failed for good; the context's
// cause when interrupted. Work cut short by cancellation is never
// recorded, so a resume redoes it.
func (r *Runner) Run(ctx context.Context, items iter.Seq2[eval.Item, error]) error {
	if r.Progress == nil {
		r.Progress = &Progress{}
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.halted.Store(nil)
	mc, jc := max(1, r.Concurrency), max(1, r.JudgeConcurrency)
	r.modelSlots, r.judgeSlots = r.ModelLimit, r.JudgeLimit
	if r.modelSlots == nil {
		r.modelSlots = fixed(make(chan struct{}, mc))
	}
	if r.judgeSlots == nil {
		r.judgeSlots = fixed(make(chan struct{}, jc))
	}
	answers := pool.New().WithMaxGoroutines(2 * mc)
	judges := pool.New().WithMaxGoroutines(2 * jc)
	next := func(n int, it eval.Item, rec AnswerRecord, keys []string) {
		judges.Go(func() { r.judge(ctx, cancel, n, it, rec, keys) })
	}
	var readErr error
	n := 0
	for it, err := range items {
		if err != nil {
			readErr = err
			cancel(err)
			break
		}
		if ctx.Err() != nil || r.halted.Load() != nil {
			break // interrupted, a task hit a fatal error, or the budget is spent
		}
		pos := n
		answers.Go(func() { r.answer(ctx, cancel, pos, it, next) })
		n++
	}
	answers.Wait()
	judges.Wait()
	if readErr != nil {
		return readErr
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if h := r.halted.Load(); h != nil {
		return *h
	}
	return nil
}

// halt stops the run gently: no new request starts, and those in flight
// finish and are journaled (the budget is spent).
func (r *Runner) halt(err error) {
	r.halted.CompareAndSwap(nil, &err)
}

// answer answers it, unless its answer is in the journal, then hands it to
// next: the judge pool, whose Go blocks while the pool is full.
func (r *Runner) answer(ctx context.Context, cancel context.CancelCauseFunc, n int, it eval.Item, next func(int, eval.Item, AnswerRecord, []string)) {
	if ctx.Err() != nil {
		return
	}
	key := AnswerKey(r.ModelID, &it)
	release := r.inflight.acquire(ctx, key)
	if release == nil {
		return
	}
	defer release()
	var rec AnswerRecord
	ok, err := r.Answers.Get(key, &rec)
	if err != nil {
		cancel(err)
		return
	}
	if ok {
		r.Progress.AnswersResumed.Add(1)
	} else {
		if r.halted.Load() != nil {
			return
		}
		if err := r.budget.admit("model"); err != nil {
			r.halt(err)
			return
		}
		if !r.modelSlots.Acquire(ctx) {
			r.budget.finish("model")
			return
		}
		a, err := r.Model.Answer(ctx, it)
		r.modelSlots.Release()
		r.budget.finish("model")
		if ctx.Err() != nil {
			return
		}
		if fatal(err) {
			cancel(&FatalError{err})
			return
		}
		rec = AnswerRecord{Key: key, Item: it.ID, Answer: a, LatencyMS: a.Latency.Milliseconds()}
		if err != nil {
			rec.Error, rec.ErrorKind = oneLine(err.Error()), ErrorKind(err)
			r.Progress.Errors.Add(1)
			r.Logger.Debug("answer failed", "item", it.ID, "err", err)
		}
		if err := r.Answers.Append(key, rec.Error != "", &rec); err != nil {
			cancel(fmt.Errorf("record answer: %w", err))
			return
		}
		r.Progress.Answered.Add(1)
	}
	if rec.Error != "" {
		r.done(Finished{N: n, Item: it.WithoutData(), Answer: &rec})
		return
	}
	// The judgment keys, hashed once for the item: to see what is judged,
	// to judge, and to write its result.
	keys := make([]string, len(r.Judges))
	for i, j := range r.Judges {
		keys[i] = JudgmentKey(j.Fingerprint, &it, rec.Text)
	}
	if r.judged(keys) {
		r.Progress.JudgedResumed.Add(1)
		r.done(Finished{N: n, Item: it.WithoutData(), Answer: &rec, keys: keys})
		return
	}
	it = it.WithoutData() // free the image bytes early: the judges read text only
	release()             // before blocking on the judge pool
	next(n, it, rec, keys)
}

// A Finished is an item the runner is done with: its position (0-based,
// in the order the items came), the item (its images without their
// bytes: see [eval.Item.WithoutData]), and
// the records this run made or read for it. Answer is never nil;
// Judgments holds, by key, the judgments made now, and lacks those found
// in the journal.
type Finished struct {
	N         int
	Item      eval.Item
	Answer    *AnswerRecord
	Judgments map[string]*JudgmentRecord
	// keys are the item's judgment keys, judge by judge, where the
	// runner hashed them (nil for a failed answer).
	keys []string
}

func (r *Runner) done(f Finished) {
	if r.Done != nil {
		r.Done(f)
	}
}

// judged reports whether every judge's verdict, by its key, is recorded.
func (r *Runner) judged(keys []string) bool {
	for _, k := range keys {
		if !r.Judgments.Has(k) {
			return false
		}
	}
	return true
}

func (r *Runner) judge(ctx context.Context, cancel context.CancelCauseFunc, n int, it eval.Item, ans AnswerRecord, keys []string) {
	failed := false
	var made map[string]*JudgmentRecord
	for i, j := range r.Judges {
		if ctx.Err() != nil {
			return
		}
		key := keys[i]
		if r.Judgments.Has(key) {
			continue
		}
		release := r.inflight.acquire(ctx, key)
		if release == nil {
			return
		}
		if r.Judgments.Has(key) { // judged by another item meanwhile
			release()
			continue
		}
		rec := r.judgeOne(ctx, cancel, j, key, it, ans, &failed)
		release()
		if rec == nil {
			return
		}
		if made == nil {
			made = make(map[string]*JudgmentRecord, len(r.Judges))
		}
		made[key] = rec
	}
	if failed {
		r.Progress.Errors.Add(1)
	}
	r.Progress.Judged.Add(1)
	r.done(Finished{N: n, Item: it, Answer: &ans, Judgments: made, keys: keys})
}

// judgeOne records one judge's verdict on it and returns the record, or
// nil when the run is over.
func (r *Runner) judgeOne(ctx context.Context, cancel context.CancelCauseFunc, j eval.JudgeSpec, key string, it eval.Item, ans AnswerRecord, failed *bool) *JudgmentRecord {
	var rec JudgmentRecord
	ck := CacheKey(key, j.Endpoint)
	if r.Cache != nil && r.Cache.Get(ck, &rec) && rec.Key == key && rec.Error == "" {
		rec.Item, rec.Cached = it.ID, true
		r.Progress.JudgedCached.Add(1)
	} else {
		if r.halted.Load() != nil {
			return nil
		}
		if err := r.budget.admit("judge"); err != nil {
			r.halt(err)
			return nil
		}
		if !r.judgeSlots.Acquire(ctx) {
			r.budget.finish("judge")
			return nil
		}
		start := time.Now()
		v, err := j.Judge.Judge(ctx, it, ans.Answer)
		r.judgeSlots.Release()
		r.budget.finish("judge")
		if ctx.Err() != nil {
			return nil
		}
		if fatal(err) {
			cancel(&FatalError{err})
			return nil
		}
		rec = JudgmentRecord{Key: key, Item: it.ID, Judge: j.Name, Verdict: v, LatencyMS: time.Since(start).Milliseconds()}
		if err != nil {
			rec.Error, rec.ErrorKind = oneLine(err.Error()), ErrorKind(err)
			*failed = true
			r.Logger.Debug("judgment failed", "item", it.ID, "judge", j.Name, "err", err)
		} else if r.Cache != nil {
			if err := r.Cache.Put(ck, &rec); err != nil {
				r.Logger.Warn("could not write the judgment cache", "err", err)
			}
		}
	}
	if err := r.Judgments.Append(key, rec.Error != "", &rec); err != nil {
		cancel(fmt.Errorf("record judgment: %w", err))
		return nil
	}
	return &rec
}

// acquire takes a request slot, or reports false when ctx ends first.
// A Limiter bounds the requests in flight to an endpoint: a fixed number,
// or one that adapts (llm.AIMD).
type Limiter interface {
	// Acquire takes a slot, or reports false when ctx ends first.
	Acquire(ctx context.Context) bool
	Release()
}

// fixed is a Limiter of a fixed number of slots.
type fixed chan struct{}

func (f fixed) Acquire(ctx context.Context) bool {
	select {
	case f <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (f fixed) Release() { <-f }
