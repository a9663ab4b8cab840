package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/pipeline"
)

// progressMeter shows a run's progress on stderr: one line rewritten in
// place when stderr is a terminal, a plain line every interval otherwise.
type progressMeter struct {
	w        io.Writer
	p        *pipeline.Progress
	clients  []*llm.Client
	interval time.Duration
	limits   func() string // the adaptive limits, or nil
	live     bool          // rewrite one line in place
	width    int
	stop     chan struct{}
	wg       sync.WaitGroup
	start    time.Time
}

// startProgress starts showing progress; mode is auto, bar, lines or none.
// Call the returned stop when the run ends.
func startProgress(w io.Writer, p *pipeline.Progress, clients []*llm.Client, mode string, limits func() string) func() {
	width := 0
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		width, _, _ = term.GetSize(int(f.Fd()))
		if mode == "auto" {
			mode = "bar"
		}
	}
	if mode == "auto" {
		mode = "lines"
	}
	if mode == "none" {
		return func() {}
	}
	if width <= 0 {
		width = 80
	}
	m := &progressMeter{w: w, p: p, clients: clients, interval: 10 * time.Second, width: width, stop: make(chan struct{}), start: time.Now(), limits: limits}
	if mode == "bar" {
		m.interval, m.live = 250*time.Millisecond, true
	}
	m.wg.Go(m.loop)
	return func() {
		close(m.stop)
		m.wg.Wait()
		if m.live {
			fmt.Fprint(m.w, "\r\x1b[K")
		}
	}
}

func (m *progressMeter) loop() {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.show()
		}
	}
}

func (m *progressMeter) show() {
	p := m.p
	s := progressSnapshot{
		total: p.Total.Load(), answered: p.Answered.Load() + p.AnswersResumed.Load(),
		judgedHere: p.Judged.Load(), judgedBefore: p.JudgedResumed.Load(),
		cached: p.JudgedCached.Load(), errors: p.Errors.Load(), elapsed: time.Since(m.start),
	}
	for _, c := range m.clients {
		s.retries += c.Stats().Retries
	}
	if m.limits != nil {
		s.limits = m.limits()
	}
	if m.live {
		fmt.Fprint(m.w, "\r"+s.line(m.width-1)+"\x1b[K")
		return
	}
	fmt.Fprintln(m.w, "progress: "+s.line(m.width-len("progress: ")))
}

// progressSnapshot is the run's progress at one moment. Work recorded
// before this process started (a resumed run) counts towards done, never
// towards the rate or the ETA.
type progressSnapshot struct {
	total, answered          int64
	judgedHere, judgedBefore int64 // judged by this process, found in the journal
	cached, errors, retries  int64
	elapsed                  time.Duration
	limits                   string // "limits 48/32" with adaptive concurrency
}

// line renders the snapshot in at most width columns, leaving out the
// least important fields first.
func (s progressSnapshot) line(width int) string {
	done := s.judgedHere + s.judgedBefore + s.errors
	pct := 0.0
	if s.total > 0 {
		pct = 100 * float64(done) / float64(s.total)
	}
	here := s.judgedHere + s.errors
	rate := float64(here) / max(s.elapsed.Seconds(), 1e-3)
	eta := "?"
	if left := max(s.total-done, 0); left == 0 {
		eta = "0s"
	} else if here > 0 && rate > 0 {
		eta = (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
	}
	// Fields in display order; rank is the order in which they are kept.
	fields := []struct {
		text string
		rank int
	}{
		{fmt.Sprintf("%d/%d done (%.0f%%)", done, s.total, pct), 0},
		{fmt.Sprintf("%d answered", s.answered), 5},
		{fmt.Sprintf("%d cached", s.cached), 6},
		{fmt.Sprintf("%.1f items/s", rate), 2},
		{"ETA " + eta, 1},
		{eval.Nouns(s.retries, "retry"), 4},
		{eval.Nouns(s.errors, "error"), 3},
		{s.limits, 7},
	}
	if s.cached == 0 {
		fields[2].rank = 99
	}
	if s.limits == "" {
		fields[7].rank = 99
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
