package pipeline

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/rubric"
)

func TestCombineMajority(t *testing.T) {
	t.Parallel()
	tr, fa := true, false
	v := func(ms ...*bool) eval.Verdict {
		var cs []eval.CriterionVerdict
		for _, m := range ms {
			cs = append(cs, eval.CriterionVerdict{Met: m})
		}
		return eval.Verdict{Criteria: cs}
	}
	show := func(ms []*bool) string {
		var s strings.Builder
		for _, m := range ms {
			switch {
			case m == nil:
				s.WriteString("?")
			case *m:
				s.WriteString("T")
			default:
				s.WriteString("F")
			}
		}
		return s.String()
	}
	// Three judges: majority per criterion; one abstention leaves a tie.
	met, reason := combine([]eval.Verdict{v(&tr, &tr, &fa, nil), v(&tr, &fa, &fa, &tr), v(&fa, &tr, &tr, &fa)})
	if show(met) != "TTF?" || reason != "the judges tied on a criterion" {
		t.Errorf("combine = %s, %q", show(met), reason)
	}
	// Two judges that disagree tie.
	met, reason = combine([]eval.Verdict{v(&tr, &fa), v(&fa, &fa)})
	if show(met) != "?F" || reason == "" {
		t.Errorf("two judges disagreeing: %s, %q", show(met), reason)
	}
	// No judge scored it.
	met, reason = combine([]eval.Verdict{v(nil), v(nil)})
	if show(met) != "?" || reason != "no judge could score a criterion" {
		t.Errorf("all abstain: %s, %q", show(met), reason)
	}
}

// TestWriteResultsInOrder writes results for more items than several
// batches hold, with answers and judgments journalled out of order and
// some missing or failed, and checks them against result called item by
// item: the same lines in the same order, and the served models of the
// last items.
func TestWriteResultsInOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	answers, _, err := store.OpenJournal(filepath.Join(dir, "a.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer answers.Close()
	judgments, _, err := store.OpenJournal(filepath.Join(dir, "j.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer judgments.Close()
	opts := FinalizeOptions{ModelID: "m", Judges: []eval.JudgeSpec{{Name: "j", Fingerprint: "jf"}}, Rule: rubric.DefaultRule}
	crit := []rubric.Criterion{{Dim: "accuracy", Points: 1, Description: "right"}, {Dim: "safety", Points: -1, Description: "harm"}}
	var items []eval.Item
	n := 5*resultBatchSize + 7
	for i := range n {
		items = append(items, eval.Item{ID: fmt.Sprintf("q%03d", i), Type: "t", Question: fmt.Sprintf("question %d", i), Reference: "r", Rubric: crit})
	}
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		it := &items[i]
		ans := AnswerRecord{Key: AnswerKey("m", it), Item: it.ID, Answer: eval.Answer{Text: fmt.Sprintf("answer %d", i), Model: fmt.Sprintf("served-%d", i%3)}}
		if i%17 == 0 {
			ans.Error = "boom"
		}
		if err := answers.Append(ans.Key, ans.Error != "", ans); err != nil {
			t.Fatal(err)
		}
		tr := i%2 == 0
		jr := JudgmentRecord{Key: JudgmentKey("jf", it, ans.Text), Item: it.ID, Judge: "j", Cached: i%5 == 0,
			Verdict: eval.Verdict{Model: fmt.Sprintf("judge-%d", i%4), Criteria: []eval.CriterionVerdict{{Dim: "accuracy", Met: &tr}, {Dim: "safety", Met: &tr}}}}
		if i%17 != 0 {
			if err := judgments.Append(jr.Key, false, jr); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want strings.Builder
	var wantTot RunTotals
	var all totals
	enc := rundir.NewResultEncoder(&want)
	for i := range items {
		res, err := result(&items[i], journals{answers, judgments}, opts, &all)
		if err != nil {
			t.Fatal(err)
		}
		enc.Encode(&res)
	}
	all.apply(&wantTot)
	var got strings.Builder
	added := 0
	seq := func(yield func(eval.Item, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
	tot, err := WriteResults(&got, seq, answers, judgments, opts, func(r eval.Result) {
		if r.ID != items[added].ID {
			t.Errorf("result %d added is %s, want %s", added, r.ID, items[added].ID)
		}
		added++
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Error("WriteResults wrote other lines than result item by item")
	}
	if added != n || tot != wantTot || tot.ServedModel != fmt.Sprintf("served-%d", (n-1)%3) {
		t.Errorf("added %d of %d; totals %+v, want %+v", added, n, tot, wantTot)
	}

	// An item with no answer at all stops it with ErrIncomplete.
	items = append(items[:100:100], eval.Item{ID: "missing", Question: "never asked", Rubric: crit})
	if _, err := WriteResults(io.Discard, seq, answers, judgments, opts, func(eval.Result) {}); !errors.Is(err, ErrIncomplete) {
		t.Errorf("with an unanswered item: %v, want ErrIncomplete", err)
	}
}
