package eval

import (
	"strconv"
	"strings"
)

// An InputError is bad input: a dataset, rubric or config problem that the
// user must fix. It names the file and, where there is one, the line or row
// and the item. cmd/psveval maps it to exit code 2.
type InputError struct {
	File string
	// Pos is "line N" (JSONL, 1-based) or "row N" (parquet, 0-based as in
	// Hugging Face datasets), or "" for a whole-file problem.
	Pos string
	// ID is the item's id, when known.
	ID  string
	Err error
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos != "" {
		b.WriteString(": " + e.Pos)
	}
	if e.ID != "" {
		b.WriteString(": item " + strconv.Quote(e.ID))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *InputError) Unwrap() error { return e.Err }

// A Skip records an item left out by Options.SkipBadItems.
type Skip struct {
	ID     string `json:"id"`
	Pos    string `json:"pos"`
	Reason string `json:"reason"`
}

// MaxLineBytes bounds one line of a JSONL file, a dataset's or a run's
// (base64 images make lines long).
const MaxLineBytes = 64 << 20
