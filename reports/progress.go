package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/psveval/psveval/eval"
)

// A Progress is a run's progress at one moment, for the progress line.
// Work recorded before this process started (a resumed run) counts
// towards done, never towards the rate or the ETA.
type Progress struct {
	Total, Answered          int64
	JudgedHere, JudgedBefore int64 // judged by this process, found in the journal
	Cached, Errors, Retries  int64
	// Timeouts are the retries that followed an attempt cut off at the
	// call timeout.
	Timeouts int64
	Elapsed  time.Duration
	Limits   string // "in flight ≤ 48/32" with adaptive concurrency
	// Spent is what this process has spent, shown when Priced.
	Spent  float64
	Priced bool
}

// Line renders the progress in at most width columns, leaving out the
// least important fields first.
func (s Progress) Line(width int) string {
	done := s.JudgedHere + s.JudgedBefore + s.Errors
	pct := 0.0
	if s.Total > 0 {
		pct = 100 * float64(done) / float64(s.Total)
	}
	here := s.JudgedHere + s.Errors
	rate := float64(here) / max(s.Elapsed.Seconds(), 1e-3)
	eta := "?"
	if left := max(s.Total-done, 0); left == 0 {
		eta = "0s"
	} else if here > 0 && rate > 0 {
		eta = (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
	}
	// Fields in display order; rank is the order in which they are kept.
	fields := []struct {
		text string
		rank int
	}{
		{fmt.Sprintf("%d/%d done (%.0f%%)", done, s.Total, pct), 0},
		{fmt.Sprintf("%d answered", s.Answered), 5},
		{fmt.Sprintf("%d cached", s.Cached), 6},
		{fmt.Sprintf("%.1f items/s", rate), 2},
		{"ETA " + eta, 1},
		{eval.Nouns(s.Retries, "retry"), 4},
		{eval.Nouns(s.Errors, "error"), 3},
		{s.Limits, 7},
		{fmt.Sprintf("$%.4f spent", s.Spent), 3},
		{eval.Nouns(s.Timeouts, "timeout"), 4},
	}
	if s.Cached == 0 {
		fields[2].rank = 99
	}
	if s.Limits == "" {
		fields[7].rank = 99
	}
	if !s.Priced {
		fields[8].rank = 99
	}
	if s.Timeouts == 0 {
		fields[9].rank = 99
	}
	for keep := len(fields); keep > 0; keep-- {
		var parts []string
		for _, f := range fields {
			if f.rank < keep && f.rank < 99 {
				parts = append(parts, f.text)
			}
		}
		if l := strings.Join(parts, ", "); len(l) <= width || keep == 1 {
			return l
		}
	}
	return ""
}
