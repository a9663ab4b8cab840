package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// A Run is one row of a report: a label and the run's summary, with its
// manifest when known. Dir, when set, tells apart runs whose labels are
// equal: their rows are labelled "label (dir)".
type Run struct {
	Label    string
	Dir      string
	Summary  *stats.Summary
	Manifest *rundir.Manifest
}

// Options configure a report.
type Options struct {
	// CI adds 95% intervals to accuracies.
	CI bool
	// Paper adds the paper's published rows and each run's difference
	// from the published row it matches (see [PaperRowFor]).
	Paper bool
	// Dims reports pass rates per rubric dimension instead of per group.
	Dims bool
	// Title is printed above text and Markdown tables.
	Title string
	// Width is the number of columns a text report must fit in (0:
	// DefaultWidth).
	Width int
}

// DefaultWidth is the width of a text report written to something other
// than a terminal.
const DefaultWidth = 100

// A Reporter renders runs.
type Reporter interface {
	Report(w io.Writer, runs []Run, opts Options) error
}

// Formats lists the report formats by name.
var Formats = []string{"text", "markdown", "latex", "csv", "json"}

// ByName returns the reporter for a format name.
func ByName(name string) (Reporter, error) {
	switch name {
	case "text":
		return Text{}, nil
	case "markdown", "md":
		return Markdown{}, nil
	case "latex", "tex":
		return LaTeX{}, nil
	case "csv":
		return CSV{}, nil
	case "json":
		return JSON{}, nil
	}
	return nil, &FormatError{name, Formats}
}

// DriftNote says that the judge changed during the run labelled label
// (its served model or system_fingerprint), with the items each judged,
// or "" when it did not.
func DriftNote(label string, s *stats.Summary) string {
	js := s.JudgeServed
	if len(js) < 2 {
		return ""
	}
	parts := make([]string, len(js))
	for i, c := range js {
		parts[i] = fmt.Sprintf("%q judged %s", c.Served, eval.Nouns(c.Items, "item"))
	}
	return fmt.Sprintf("warning: %s: the judge changed during the run (served model or system_fingerprint): %s", label, strings.Join(parts, ", "))
}
