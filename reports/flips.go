package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// flipsText lists items whose score changed between two runs, as rundir.Flips
// returns them: each with its question, reference, both answers and both
// runs' verdicts per criterion.
func flipsText(w io.Writer, flips []rundir.Flip) error {
	if _, err := fmt.Fprintf(w, "\n%s changed score:\n", eval.Nouns(len(flips), "item")); err != nil {
		return err
	}
	for _, f := range flips {
		b, c := f.Base, f.Cand
		if _, err := fmt.Fprintf(w, "\n%s [%s] %s -> %s\n  question:  %s\n  reference: %s\n  base:      %s\n             %s\n  candidate: %s\n             %s\n",
			f.ID, b.QuestionType, stats.FormatFloat(*b.Score, 2), stats.FormatFloat(*c.Score, 2), oneLine(b.Question), oneLine(b.Reference),
			oneLine(b.Answer), verdictLine(b), oneLine(c.Answer), verdictLine(c)); err != nil {
			return err
		}
	}
	return nil
}

func verdictLine(r eval.Result) string {
	parts := make([]string, len(r.Criteria))
	for i, c := range r.Criteria {
		mark := "?"
		if c.Met != nil {
			mark = map[bool]string{true: "met", false: "not met"}[*c.Met]
		}
		parts[i] = c.Dim + " " + mark
	}
	return strings.Join(parts, ", ")
}

// oneLine puts s on one line, clipped to 200 bytes.
func oneLine(s string) string {
	return llm.Clip(strings.Join(strings.Fields(s), " "), 200)
}
