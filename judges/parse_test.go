package judges

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/psveval/psveval/rubric"
)

var labels3 = []string{"accuracy", "grounding", "safety"}

// verdict3 renders marks as "accuracy=T grounding=F ..." for comparison.
func render(ms []Mark) string {
	var parts []string
	for i, m := range ms {
		parts = append(parts, fmt.Sprintf("%s=%v", labels3[i], m.Met))
	}
	return strings.Join(parts, " ")
}

const want3 = "accuracy=true grounding=false safety=true"

const plain = `{"criteria":[{"dim":"accuracy","met":true,"explanation":"right"},{"dim":"grounding","met":false,"explanation":"no"},{"dim":"safety","met":true,"explanation":"ok"}]}`

// TestParseVerdictShapes holds reply shapes seen from real judges (DeepSeek,
// Qwen, GPT-4o-class, vLLM-served open models), each with the exact
// verdict expected, or the exact reason it is rejected.
func TestParseVerdictShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, reasoning string
		want                     string // the verdict, or "error: <substring>"
	}{
		{"plain", plain, "", want3},
		{"json fence", "```json\n" + plain + "\n```", "", want3},
		{"bare fence", "```\n" + plain + "\n```", "", want3},
		{"think block", "<think>\nThe answer says yes; reference says yes. {not json}\n</think>\n" + plain, "", want3},
		{"thinking tag", "<thinking>check {\"criteria\": []}</thinking>" + plain, "", want3},
		{"stray closing think", "reasoning without an opening tag...</think>" + plain, "", want3},
		{"prose before", "Here is my evaluation of the answer:\n\n" + plain, "", want3},
		{"prose after", plain + "\n\nOverall the answer is partly correct.", "", want3},
		{"prose around with braces", "Criteria {as given} are graded below.\n" + plain + "\nNote: {none}.", "", want3},
		{"string booleans", `{"criteria":[{"dim":"accuracy","met":"true"},{"dim":"grounding","met":"false"},{"dim":"safety","met":"True"}]}`, "", want3},
		{"yes no", `{"criteria":[{"dim":"accuracy","met":"yes"},{"dim":"grounding","met":"No"},{"dim":"safety","met":"YES."}]}`, "", want3},
		{"one zero", `{"criteria":[{"dim":"accuracy","met":1},{"dim":"grounding","met":0},{"dim":"safety","met":1}]}`, "", want3},
		{"met words", `{"criteria":[{"dim":"accuracy","met":"met"},{"dim":"grounding","met":"not met"},{"dim":"safety","met":"pass"}]}`, "", want3},
		{"keys in caps", `{"Criteria":[{"Dim":"accuracy","Met":true,"Explanation":"x"},{"DIM":"grounding","MET":false},{"dim":"safety","met":true}]}`, "", want3},
		{"dims in other case", `{"criteria":[{"dim":"Accuracy","met":true},{"dim":" GROUNDING ","met":false},{"dim":"safety","met":true}]}`, "", want3},
		{"other order", `{"criteria":[{"dim":"safety","met":true},{"dim":"accuracy","met":true},{"dim":"grounding","met":false}]}`, "", want3},
		{"synonym keys", `{"criteria":[{"criterion":"accuracy","satisfied":true,"reason":"a"},{"criterion":"grounding","satisfied":false},{"criterion":"safety","satisfied":true}]}`, "", want3},
		{"bare list", `[{"dim":"accuracy","met":true},{"dim":"grounding","met":false},{"dim":"safety","met":true}]`, "", want3},
		{"positional without dims", `{"criteria":[{"met":true},{"met":false},{"met":true}]}`, "", want3},
		{"trailing commas", `{"criteria":[{"dim":"accuracy","met":true,},{"dim":"grounding","met":false},{"dim":"safety","met":true},]}`, "", want3},
		{"blank content, reasoning holds JSON", "", "I graded: " + plain, want3},
		{"whitespace content, reasoning holds JSON", "  \n ", plain, want3},
		{"same verdict twice", plain + "\nTo repeat:\n" + plain, "", want3},
		{"extra keys ignored", `{"score":0.6,"criteria":[{"dim":"accuracy","met":true,"weight":1},{"dim":"grounding","met":false},{"dim":"safety","met":true}]}`, "", want3},
		{"nested explanation braces", `{"criteria":[{"dim":"accuracy","met":true,"explanation":"says {yes} and [1]"},{"dim":"grounding","met":false},{"dim":"safety","met":true}]}`, "", want3},
		{"blank", "", "", "error: the reply is blank"},
		{"prose only", "The answer is correct on accuracy and safety but not grounding.", "", "error: no JSON verdict found"},
		{"truncated", `{"criteria":[{"dim":"accuracy","met":true},{"dim":"grounding","met":fa`, "", `error: missing criteria "grounding", "safety"`},
		{"truncated early", `{"criteria":[{"dim":"accu`, "", "error: no JSON verdict found"},
		{"missing criterion", `{"criteria":[{"dim":"accuracy","met":true},{"dim":"safety","met":true}]}`, "", `error: missing criteria "grounding"`},
		{"duplicate criterion", `{"criteria":[{"dim":"accuracy","met":true},{"dim":"accuracy","met":false},{"dim":"grounding","met":false},{"dim":"safety","met":true}]}`, "", `error: criteria graded twice "accuracy"`},
		{"extra criterion", `{"criteria":[{"dim":"accuracy","met":true},{"dim":"grounding","met":false},{"dim":"safety","met":true},{"dim":"style","met":true}]}`, "", `error: unknown criteria "style"`},
		{"wrong met type", `{"criteria":[{"dim":"accuracy","met":"partially"},{"dim":"grounding","met":false},{"dim":"safety","met":true}]}`, "", `error: criterion "accuracy" has "met": "partially"`},
		{"score instead of met", `{"criteria":[{"dim":"accuracy","met":0.5},{"dim":"grounding","met":false},{"dim":"safety","met":true}]}`, "", `error: criterion "accuracy" has "met": 0.5`},
		{"no met key", `{"criteria":[{"dim":"accuracy","explanation":"x"},{"dim":"grounding","met":false},{"dim":"safety","met":true}]}`, "", `error: criterion "accuracy" has no "met"`},
		{"positional count mismatch", `{"criteria":[{"met":true},{"met":false}]}`, "", "error: the reply grades 2 criteria without dims, want 3"},
		{"some dims missing", `{"criteria":[{"dim":"accuracy","met":true},{"met":false},{"dim":"safety","met":true}]}`, "", `error: some criteria have no "dim"`},
		{"two different verdicts", plain + "\n" + strings.Replace(plain, `"grounding","met":false`, `"grounding","met":true`, 1), "", "error: the reply holds 2 different verdicts"},
		{"criteria not a list", `{"criteria":{"accuracy":true}}`, "", "error: no JSON verdict found"},
		{"python booleans", `{"criteria":[{"dim":"accuracy","met":True}]}`, "", "error: no JSON verdict found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseVerdict(tc.content, tc.reasoning, labels3)
			if wantErr, isErr := strings.CutPrefix(tc.want, "error: "); isErr {
				var pe *ParseError
				if !errors.As(err, &pe) || !strings.Contains(pe.Reason, wantErr) {
					t.Errorf("ParseVerdict(%q) = %v, %v; want a *ParseError containing %q", tc.content, got, err, wantErr)
				}
				return
			}
			if err != nil || render(got) != tc.want {
				t.Errorf("ParseVerdict(%q) = %s, %v; want %s", tc.content, render(got), err, tc.want)
			}
		})
	}
	if n := len(tests); n < 30 {
		t.Errorf("only %d reply shapes; the rubric issue asks for at least 30", n)
	}
}

func TestParseVerdictExplanations(t *testing.T) {
	t.Parallel()
	got, err := ParseVerdict(plain, "", labels3)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Explanation != "right" || got[1].Explanation != "no" {
		t.Errorf("explanations = %+v", got)
	}
}

// FuzzParseVerdict checks the parser's promises on any reply: no panic,
// and a verdict, when there is one, that has exactly the item's criteria.
func FuzzParseVerdict(f *testing.F) {
	for _, s := range []string{
		plain, "```json\n" + plain + "\n```", "<think>x</think>" + plain, `[{"dim":"accuracy","met":1}]`,
		`{"criteria":[{"met":"yes"},{"met":"no"},{"met":true}]}`, "", "{", "[[[[", `{"criteria":[{"dim":"accuracy","met":true,},]}`,
		`[{"Met":true,"MET":false},{"met":1},{"met":0}]`, `[{"met":true,"met":false},{"met":1},{"met":0}]`,
		`[{"met":true,"passed":false},{"met":1},{"met":0}]`,
	} {
		f.Add(s, "")
	}
	f.Add("", plain)
	f.Fuzz(func(t *testing.T, content, reasoning string) {
		got, err := ParseVerdict(content, reasoning, labels3)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		if len(got) != len(labels3) {
			t.Fatalf("ParseVerdict(%q) gave %d marks for %d criteria", content, len(got), len(labels3))
		}
		again, err2 := ParseVerdict(content, reasoning, labels3)
		if err2 != nil || !reflect.DeepEqual(got, again) {
			t.Fatalf("ParseVerdict(%q) gave %v, then %v, %v", content, got, again, err2)
		}
	})
}

func BenchmarkParseVerdict(b *testing.B) {
	reply := "<think>Checking each criterion against the reference.</think>\n```json\n" + plain + "\n```"
	for b.Loop() {
		if _, err := ParseVerdict(reply, "", labels3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
}

func ExampleParseVerdict() {
	reply := "Here is my grading:\n```json\n" +
		`{"criteria":[{"dim":"safety","met":"no"},{"dim":"accuracy","met":true,"explanation":"same finding"},{"dim":"grounding","met":0}]}` +
		"\n```"
	marks, err := ParseVerdict(reply, "", []string{"accuracy", "grounding", "safety"})
	fmt.Println(err)
	for _, m := range marks {
		fmt.Printf("%v %q\n", m.Met, m.Explanation)
	}
	// Output:
	// <nil>
	// true "same finding"
	// false ""
	// false ""
}

// TestParseIsDeterministic checks that one reply always gives one verdict:
// an exact key wins over its case variants, and conflicting case
// variants, duplicate keys or disagreeing synonyms are ambiguous, never a
// coin flip over a map's order.
func TestParseIsDeterministic(t *testing.T) {
	t.Parallel()
	one := []string{"accuracy"}
	for _, tc := range []struct {
		reply string
		want  string // "true", "false", or "error"
	}{
		{`{"dim":"accuracy","met":true,"MET":false}`, "true"},
		{`{"dim":"accuracy","MET":false,"met":true}`, "true"},
		{`{"dim":"accuracy","Met":true,"MET":false}`, "error"},
		{`{"dim":"accuracy","Met":true,"MET":true}`, "true"},
		{`{"dim":"accuracy","met":true,"met":false}`, "error"},
		{`{"dim":"accuracy","met":true,"met":true}`, "true"},
		{`{"dim":"accuracy","met":true,"passed":false}`, "error"},
		{`{"dim":"accuracy","met":"yes","passed":true}`, "true"},
		{`{"dim":"accuracy","name":"other","met":true}`, "error"},
		{`{"DIM":"accuracy","Dim":"completeness","met":true}`, "error"},
	} {
		var first string
		for range 50 {
			marks, err := ParseVerdict(tc.reply, "", one)
			got := "error"
			if err == nil {
				got = fmt.Sprint(marks[0].Met)
			}
			if first == "" {
				first = got
			}
			if got != first {
				t.Fatalf("ParseVerdict(%s) gave %s, then %s", tc.reply, first, got)
			}
		}
		if first != tc.want {
			t.Errorf("ParseVerdict(%s) = %s, want %s", tc.reply, first, tc.want)
		}
	}
}

// TestLabelsUniqueAndScoreable checks rubrics whose dims differ only in
// case, or collide with the numbering of repeated dims: each criterion
// gets its own label, unique ignoring case, and a reply naming the labels
// scores every criterion.
func TestLabelsUniqueAndScoreable(t *testing.T) {
	t.Parallel()
	for _, dims := range [][]string{
		{"Accuracy", "accuracy"},
		{"acc", "acc", "acc#1"},
		{"acc#2", "acc", "acc", ""},
		{"x", "X#1", "x", "X"},
	} {
		var cs []rubric.Criterion
		for _, d := range dims {
			cs = append(cs, rubric.Criterion{Dim: d, Points: 1, Description: "d"})
		}
		labels := rubric.Labels(cs)
		seen := map[string]bool{}
		var parts []string
		for i, l := range labels {
			k := strings.ToLower(l)
			if seen[k] || l == "" {
				t.Fatalf("Labels(%q) = %q: not unique ignoring case", dims, labels)
			}
			seen[k] = true
			parts = append(parts, fmt.Sprintf(`{"dim":%q,"met":%v}`, l, i%2 == 0))
		}
		marks, err := ParseVerdict("["+strings.Join(parts, ",")+"]", "", labels)
		if err != nil {
			t.Fatalf("dims %q, labels %q: %v", dims, labels, err)
		}
		for i, m := range marks {
			if m.Met != (i%2 == 0) {
				t.Errorf("dims %q: criterion %d got %v", dims, i, m.Met)
			}
		}
	}
}
