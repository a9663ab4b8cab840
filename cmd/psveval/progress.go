package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/reports"
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
	s := reports.Progress{
		Total: p.Total.Load(), Answered: p.Answered.Load() + p.AnswersResumed.Load(),
		JudgedHere: p.Judged.Load(), JudgedBefore: p.JudgedResumed.Load(),
		Cached: p.JudgedCached.Load(), Errors: p.Errors.Load(), Elapsed: time.Since(m.start),
	}
	s.Spent, s.Priced = p.SpentUSD()
	for _, c := range m.clients {
		st := c.Stats()
		s.Retries += st.Retries
		s.Timeouts += st.Timeouts
	}
	if m.limits != nil {
		s.Limits = m.limits()
	}
	if m.live {
		fmt.Fprint(m.w, "\r"+s.Line(m.width-1)+"\x1b[K")
		return
	}
	fmt.Fprintln(m.w, "progress: "+s.Line(m.width-len("progress: ")))
}
