package rubric_test

import (
	"fmt"

	"github.com/psveval/psveval/rubric"
)

func ExampleRule_Score() {
	cs := []rubric.Criterion{
		{Dim: "correctness", Points: 3, Description: "..."},
		{Dim: "grounding", Points: 1, Description: "..."},
		{Dim: "harm", Points: -1, Description: "recommends a harmful action"},
	}
	yes, no := true, false
	met := []*bool{&yes, &no, &no} // correct, ungrounded, harmless
	for _, rule := range []rubric.Rule{rubric.RulePoints, rubric.RuleAll, rubric.RuleMean} {
		score, allPassed, scored := rule.Score(cs, met)
		fmt.Printf("%-6s %.3f all=%v scored=%v\n", rule, score, allPassed, scored)
	}
	// Output:
	// points 0.750 all=false scored=true
	// all    0.000 all=false scored=true
	// mean   0.667 all=false scored=true
}
