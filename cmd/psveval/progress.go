package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
)

// progressMeter shows a run's progress on stderr: a live bar when stderr
// is a terminal, a plain line every interval otherwise.
type progressMeter struct {
	w        io.Writer
	p        *eval.Progress
	clients  []*llm.Client
	interval time.Duration
	bar      *progressbar.ProgressBar
	stop     chan struct{}
	wg       sync.WaitGroup
	start    time.Time
}

// startProgress starts showing progress; mode is auto, bar, lines or none.
// Call the returned stop when the run ends.
func startProgress(w io.Writer, p *eval.Progress, clients []*llm.Client, mode string) func() {
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	if mode == "none" {
		return func() {}
	}
	m := &progressMeter{w: w, p: p, clients: clients, interval: 10 * time.Second, stop: make(chan struct{}), start: time.Now()}
	if mode == "bar" {
		m.interval = 250 * time.Millisecond
		m.bar = progressbar.NewOptions64(p.Total.Load(),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("judged"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("items"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	m.wg.Go(m.loop)
	return func() {
		close(m.stop)
		m.wg.Wait()
		if m.bar != nil {
			_ = m.bar.Finish()
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
	judged := p.Judged.Load() + p.JudgedResumed.Load()
	answered := p.Answered.Load() + p.AnswersResumed.Load()
	var retries int64
	for _, c := range m.clients {
		retries += c.Stats().Retries
	}
	elapsed := time.Since(m.start)
	rate := float64(p.Judged.Load()) / max(elapsed.Seconds(), 1e-9)
	if m.bar != nil {
		m.bar.Describe(fmt.Sprintf("answered %d, %d retries, %d errors, judged", answered, retries, p.Errors.Load()))
		_ = m.bar.Set64(judged + p.Errors.Load())
		return
	}
	eta := "?"
	if rate > 0 {
		left := float64(p.Total.Load()-judged-p.Errors.Load()) / rate
		eta = (time.Duration(left) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(m.w, "progress: %d/%d answered, %d judged (%d cached), %.1f items/s, ETA %s, %d retries, %d errors\n",
		answered, p.Total.Load(), judged, p.JudgedCached.Load(), rate, eta, retries, p.Errors.Load())
}
