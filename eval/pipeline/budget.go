package pipeline

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/store"
)

// A BudgetError reports a run that --max-cost stopped: no new request
// started once Spent, plus what the requests in flight would likely
// cost, would have passed Limit. Those in flight finished and were
// journaled.
type BudgetError struct {
	// Limit is the budget and Spent what this invocation spent, the
	// requests that were in flight included; RunSoFar is what the run
	// has cost over every invocation, from its journals.
	Limit, Spent, RunSoFar float64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("stopped at the budget: --max-cost $%.4f counts this invocation, which spent $%.4f (the run so far, every invocation: $%.4f); nothing recorded is lost, and the same command again, without --max-cost or with a larger one, finishes the run without paying for any call twice", e.Limit, e.Spent, e.RunSoFar)
}

// Kind names the error for results.jsonl.
func (e *BudgetError) Kind() string { return "budget" }

// A budget admits requests while the spend stays under its limit.
type budget struct {
	limit float64
	// spent reports what kind's calls cost so far, and how many
	// admitted units (answers, judgments) of it have finished.
	spent func(kind string) float64
	mu    sync.Mutex
	// inflight and done count units by kind ("model", "judge").
	inflight, done map[string]int
}

func newBudget(limit float64, spent func(kind string) float64) *budget {
	return &budget{limit: limit, spent: spent, inflight: map[string]int{}, done: map[string]int{}}
}

// admit starts a unit of kind, or refuses it with a *BudgetError when
// the spend so far plus the units in flight, each at its kind's mean
// cost so far, would pass the limit.
func (b *budget) admit(kind string) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var total, ahead float64
	for _, k := range []string{"model", "judge"} {
		s := b.spent(k)
		total += s
		per := 0.0
		if b.done[k] > 0 {
			per = s / float64(b.done[k])
		}
		n := b.inflight[k]
		if k == kind {
			n++
		}
		ahead += float64(n) * per
	}
	if total >= b.limit || total+ahead > b.limit {
		return &BudgetError{Limit: b.limit, Spent: total}
	}
	b.inflight[kind]++
	return nil
}

// finish ends a unit admitted by admit.
func (b *budget) finish(kind string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.inflight[kind]--
	b.done[kind]++
	b.mu.Unlock()
}

// spentBy prices what this process's clients of kind were billed.
func (j *Job) spentBy(kind string) float64 {
	price := j.ModelPrice
	if kind == "judge" {
		price = j.JudgePrice
	}
	var usd float64
	for _, e := range j.Endpoints {
		if (e.Flag == "--judge-model") != (kind == "judge") || e.Client == nil {
			continue
		}
		t, _ := e.Client.Billed()
		usd += price.Cost(eval.Usage(t))
	}
	return usd
}

// Spent is what this process has spent so far at the job's prices.
func (j *Job) Spent() float64 { return j.spentBy("model") + j.spentBy("judge") }

// journalCost prices the usage recorded in a run's journals: what the
// run has cost so far, every invocation included (judgments served by
// the cache cost nothing).
func (j *Job) journalCost(answers, judgments *store.Journal) float64 {
	var usd float64
	for _, side := range []struct {
		jn    *store.Journal
		price eval.Price
	}{{answers, j.ModelPrice}, {judgments, j.JudgePrice}} {
		_ = side.jn.Scan(func(line []byte) error {
			var rec struct {
				Usage  eval.Usage `json:"usage"`
				Cached bool       `json:"cached"`
			}
			if json.Unmarshal(line, &rec) == nil && !rec.Cached {
				usd += side.price.Cost(rec.Usage)
			}
			return nil
		})
	}
	return usd
}
