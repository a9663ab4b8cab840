package pipeline

import (
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
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
