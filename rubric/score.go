package rubric

import (
	"fmt"
	"strings"
)

// A Rule turns per-criterion verdicts into an item score in [0, 1].
type Rule string

// The scoring rules. RulePoints is the default.
const (
	// RulePoints is HealthBench's rule: the points of met criteria over the
	// sum of positive points. Met criteria with negative points subtract.
	// The result is clipped to [0, 1].
	RulePoints Rule = "points"
	// RuleAll scores 1 when every criterion passes, else 0.
	RuleAll Rule = "all"
	// RuleMean is the fraction of criteria that pass.
	RuleMean Rule = "mean"
)

// DefaultRule is the rule used when none is configured.
const DefaultRule = RulePoints

// ParseRule returns the rule named s (case-insensitive).
func ParseRule(s string) (Rule, error) {
	switch r := Rule(strings.ToLower(strings.TrimSpace(s))); r {
	case RulePoints, RuleAll, RuleMean:
		return r, nil
	}
	return "", fmt.Errorf("unknown scoring rule %q (want points, all or mean)", s)
}

// Score scores one item as a float64; see [Rule.Fraction], whose exact
// ratio it rounds.
func (r Rule) Score(cs []Criterion, met []*bool) (score float64, allPassed, scored bool) {
	num, den, allPassed, scored := r.Fraction(cs, met)
	if !scored {
		return 0, false, false
	}
	return float64(num) / float64(den), allPassed, true
}

// Fraction scores one item exactly, as num/den with den > 0. met holds
// one verdict per criterion, in the same order: true, false, or nil for a
// criterion the judge could not score.
//
// scored is false when any verdict is nil: the item is then unscorable,
// and the other results are zero, because an unscorable criterion counts
// neither for nor against the answer. allPassed reports whether every
// criterion passed (see [Criterion.Passed]); it is stored beside the score
// so that every rule can be recomputed later without asking the judge
// again.
//
// Fraction panics if met and cs differ in length: that is a programming
// error.
func (r Rule) Fraction(cs []Criterion, met []*bool) (num, den int64, allPassed, scored bool) {
	if len(met) != len(cs) {
		panic(fmt.Sprintf("rubric: %d verdicts for %d criteria", len(met), len(cs)))
	}
	var total, got int64
	passed := 0
	for i, c := range cs {
		if met[i] == nil {
			return 0, 0, false, false
		}
		if c.Passed(*met[i]) {
			passed++
		}
		if c.Points > 0 {
			total += c.Points
		}
		if *met[i] {
			got += c.Points
		}
	}
	allPassed = passed == len(cs)
	switch r {
	case RuleAll:
		if allPassed {
			return 1, 1, true, true
		}
		return 0, 1, false, true
	case RuleMean:
		return int64(passed), int64(len(cs)), allPassed, true
	}
	switch {
	case total <= 0 || got <= 0:
		return 0, 1, allPassed, true
	case got >= total:
		return 1, 1, allPassed, true
	}
	return got, total, allPassed, true
}
