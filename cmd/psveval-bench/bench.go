package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
)

// bench measures the end-to-end figures of BENCHMARKS.md. The model and
// judge are psveval's fake server in a child process, and each measured
// run is a child process too (psveval run, or this program's naive-run),
// so its wall time, CPU time and peak RSS are its own.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("psveval-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	psveval := fs.String("psveval", "", "the psveval `binary` to measure (default: built from ./cmd/psveval into a temporary folder)")
	what := fs.String("what", "all", "figures to measure: all, or a list of efficiency, naive, lean, ceiling, images, memory, resume, cache, adaptive (not in all)")
	runs := fs.Int("runs", 3, "runs per figure (min, median and max are reported)")
	n := fs.Int("n", 9264, "items per run")
	sample := fs.String("images", "../shared/data/medvqa-sample/items.jsonl", "medvqa sample whose real JPEGs the image figures use")
	curve := fs.String("memory-n", "1000,10000,50000,100000", "item counts of the memory curve")
	keep := fs.String("keep", "", "keep the benchmark's files in this `directory`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir := *keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "psveval-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	exe := *psveval
	if exe == "" {
		exe = filepath.Join(dir, "psveval")
		build := exec.CommandContext(ctx, "go", "build", "-o", exe, "./cmd/psveval")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building psveval (run from the repository root, or give --psveval): %w", err)
		}
	}
	b := &bencher{ctx: ctx, exe: exe, self: self, dir: dir, runs: *runs, n: *n, log: stderr}
	want := map[string]bool{}
	for w := range strings.SplitSeq(*what, ",") {
		want[strings.TrimSpace(w)] = true
	}
	all := want["all"]
	fmt.Fprintf(stdout, "machine: %s\n\n", machine())
	fmt.Fprintln(stdout, "| figure | target | min | median | max | unit |")
	fmt.Fprintln(stdout, "|---|---|---:|---:|---:|---|")
	row := func(name, target string, xs []float64, unit string) {
		slices.Sort(xs)
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s | %s |\n", name, target, num(xs[0]), num(xs[len(xs)/2]), num(xs[len(xs)-1]), unit)
	}
	text, err := b.textData(*n)
	if err != nil {
		return err
	}
	ideal := math.Max(float64(*n)*0.050/64, float64(*n)*0.080/32)
	if all || want["efficiency"] || want["naive"] || want["resume"] || want["lean"] {
		srv, err := b.fake(text, "--model-latency", "50ms", "--judge-latency", "80ms")
		if err != nil {
			return err
		}
		defer srv.stop()
		var effs, walls, cpus, rss []float64
		// With lean, each psveval run is followed by a lean client's run,
		// so that a slow spell of the machine (a VM's stolen time) falls
		// on both sides of a pair, and the pairs' ratios are reported.
		var leffs, lcpus, effRatios, cpuRatios []float64
		var last string
		for i := range b.runs {
			m, err := b.run(srv, text, fmt.Sprintf("eff%d", i))
			if err != nil {
				return err
			}
			walls, effs = append(walls, m.wall), append(effs, ideal/m.wall)
			cpus, rss = append(cpus, 1000*m.cpu/float64(*n)), append(rss, m.rssMB)
			last = m.out
			if all || want["lean"] {
				lm, err := b.measure(fmt.Sprintf("lean%d", i), "", exec.CommandContext(b.ctx, b.self, "lean-run", "--data", text,
					"--url", srv.url, "--model", "bench-vlm", "--judge-model", llmtest.DefaultJudge))
				if err != nil {
					return err
				}
				leffs, lcpus = append(leffs, ideal/lm.wall), append(lcpus, 1000*lm.cpu/float64(*n))
				effRatios, cpuRatios = append(effRatios, lm.wall/m.wall), append(cpuRatios, m.cpu/lm.cpu)
			}
		}
		row(fmt.Sprintf("wall time, %d items, 50 ms model @64, 80 ms judge @32 (ideal %.1f s)", *n, ideal), "-", walls, "s")
		row("efficiency = ideal / wall", "≥ 0.93", effs, "")
		row("CPU per 1,000 items, text-only (model and judge requests)", "≤ 1.0", cpus, "CPU-s")
		row(fmt.Sprintf("peak RSS, %d items", *n), "≤ 100", rss, "MB")
		if all || want["lean"] {
			row("efficiency of a lean client (psveval-bench lean-run: requests only, no journal, results or checks; run after each psveval run)", "(the floor)", leffs, "")
			row("CPU per 1,000 items of the lean client", "(the floor)", lcpus, "CPU-s")
			row("efficiency, psveval's ÷ the lean client's, pair by pair", "≥ 0.99", effRatios, "")
			row("CPU, psveval's ÷ the lean client's, pair by pair", "≤ 1.3", cpuRatios, "×")
		}
		if all || want["naive"] {
			var neffs []float64
			for i := range b.runs {
				m, err := b.naive(srv, text, fmt.Sprintf("naive%d", i))
				if err != nil {
					return err
				}
				neffs = append(neffs, ideal/m.wall)
			}
			row("efficiency of the naive design (one pool of 32 answering then judging)", "(lower)", neffs, "")
		}
		if all || want["resume"] {
			var ws, reqs []float64
			for range b.runs {
				before, err := srv.requests()
				if err != nil {
					return err
				}
				m, err := b.run(srv, text, filepath.Base(last))
				if err != nil {
					return err
				}
				after, _ := srv.requests()
				ws, reqs = append(ws, m.wall), append(reqs, float64(after-before))
			}
			row(fmt.Sprintf("resume of a finished %d-item run: wall time", *n), "< 2", ws, "s")
			row("resume of a finished run: requests made", "0", reqs, "requests")
		}
		srv.stop()
	}
	if all || want["cache"] {
		srv, err := b.fake(text)
		if err != nil {
			return err
		}
		cache := filepath.Join(dir, "cache")
		if _, err := b.run(srv, text, "cache-first", "--cache", cache); err != nil {
			return err
		}
		var reqs []float64
		for i := range b.runs {
			before, _ := srv.judgeRequests()
			if _, err := b.run(srv, text, fmt.Sprintf("cache%d", i), "--cache", cache); err != nil {
				return err
			}
			after, _ := srv.judgeRequests()
			reqs = append(reqs, float64(after-before))
		}
		row("second run with the same answers: judge requests", "0", reqs, "requests")
		srv.stop()
	}
	if all || want["ceiling"] {
		srv, err := b.fake(text)
		if err != nil {
			return err
		}
		var ips, cpus []float64
		for i := range b.runs {
			m, err := b.run(srv, text, fmt.Sprintf("ceil%d", i))
			if err != nil {
				return err
			}
			ips, cpus = append(ips, float64(*n)/m.wall), append(cpus, 1000*m.cpu/float64(*n))
		}
		row("ceiling, text-only, zero-latency server", "≥ 2000", ips, "items/s")
		row("CPU per 1,000 items at the ceiling, text-only", "≤ 1.0", cpus, "CPU-s")
		srv.stop()
	}
	if all || want["images"] {
		imgs, root, err := b.imageData(*sample, *n)
		if err != nil {
			fmt.Fprintf(stdout, "| images: skipped (%v) | | | | | |\n", err)
		} else {
			srv, err := b.fake(imgs)
			if err != nil {
				return err
			}
			var ips, cpus, rss []float64
			for i := range b.runs {
				m, err := b.run(srv, imgs, fmt.Sprintf("img%d", i), "--image-root", root)
				if err != nil {
					return err
				}
				ips, cpus, rss = append(ips, float64(*n)/m.wall), append(cpus, 1000*m.cpu/float64(*n)), append(rss, m.rssMB)
			}
			row("ceiling with real JPEGs (medvqa sample, 7-170 KB)", "-", ips, "items/s")
			row("CPU per 1,000 items with real JPEGs", "-", cpus, "CPU-s")
			row("peak RSS with real JPEGs", "≤ 100", rss, "MB")
			srv.stop()
		}
	}
	if want["adaptive"] { // not in "all": it takes minutes
		srv, err := b.fake(text, "--capacity", "48", "--max-inflight", "96", "--model-latency", "50ms")
		if err != nil {
			return err
		}
		best := 0.0
		var autoIPS, auto429 []float64
		for _, c := range []string{"16", "32", "48", "64", "96", "128", "256", "auto"} {
			var ips, share []float64
			for i := range b.runs {
				m, err := b.run(srv, text, fmt.Sprintf("conc-%s-%d", c, i), "--concurrency", c, "--judge-concurrency", "64", "--max-error-rate", "1")
				if err != nil {
					srv.stop()
					return err
				}
				calls, err := modelCalls(m.out)
				if err != nil {
					srv.stop()
					return err
				}
				ips = append(ips, float64(*n)/m.wall)
				share = append(share, 100*float64(calls.Retries)/float64(calls.Requests+calls.Retries))
			}
			slices.Sort(ips)
			if c == "auto" {
				autoIPS, auto429 = ips, share
			} else {
				best = max(best, ips[len(ips)/2])
			}
			row(fmt.Sprintf("throughput at --concurrency %s (capacity 48, 429 above 96, 50 ms)", c), "-", ips, "items/s")
			row(fmt.Sprintf("requests answered 429 at --concurrency %s", c), "-", share, "%")
		}
		rel := make([]float64, len(autoIPS))
		for i, x := range autoIPS {
			rel[i] = x / best
		}
		row("auto throughput / best fixed (median)", "≥ 0.9", rel, "")
		row("auto: requests answered 429, whole run", "< 1", auto429, "%")
		srv.stop()
	}
	if all || want["memory"] {
		for part := range strings.SplitSeq(*curve, ",") {
			size, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return fmt.Errorf("--memory-n: %v", err)
			}
			data, err := b.textData(size)
			if err != nil {
				return err
			}
			srv, err := b.fake(data)
			if err != nil {
				return err
			}
			var rss []float64
			for i := range b.runs {
				m, err := b.run(srv, data, fmt.Sprintf("mem%d-%d", size, i))
				if err != nil {
					srv.stop()
					return err
				}
				rss = append(rss, m.rssMB)
				os.RemoveAll(m.out)
			}
			row(fmt.Sprintf("peak RSS, %d text-only items", size), "flat", rss, "MB")
			srv.stop()
		}
	}
	return nil
}

func num(x float64) string {
	switch {
	case x == math.Trunc(x) && math.Abs(x) < 1e6:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case math.Abs(x) >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case math.Abs(x) >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 3, 64)
}

// machine describes the machine the figures come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

type bencher struct {
	ctx  context.Context
	exe  string // psveval
	self string // this program, for naive-run
	dir  string
	runs int
	n    int
	log  io.Writer
}

// textData writes n PSV2026-shaped text-only items (unique questions).
func (b *bencher) textData(n int) (string, error) {
	path := filepath.Join(b.dir, fmt.Sprintf("text-%d.jsonl", n))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	err = evaltest.WriteJSONL(w, evaltest.Options{N: n, Seed: 7, UniqueQuestions: true})
	if err == nil {
		err = w.Flush()
	}
	return path, errors.Join(err, f.Close())
}

// imageData writes n items that cycle through the medvqa sample's images.
func (b *bencher) imageData(sample string, n int) (data, root string, err error) {
	ds, err := dataset.Open(sample, dataset.Options{})
	if err != nil {
		return "", "", err
	}
	var items []eval.Item
	for it, err := range ds.All() {
		if err != nil {
			return "", "", err
		}
		items = append(items, it)
	}
	root, _ = filepath.Abs(filepath.Join(filepath.Dir(sample), "images"))
	data = filepath.Join(b.dir, fmt.Sprintf("images-%d.jsonl", n))
	f, err := os.Create(data)
	if err != nil {
		return "", "", err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range n {
		it := items[i%len(items)]
		if err := enc.Encode(map[string]string{
			"id": fmt.Sprintf("img-%06d", i), "question": fmt.Sprintf("%s [item %d]", it.Question, i),
			"answer": it.Reference, "question_type": it.Type, "image": it.Images[0].Path,
		}); err != nil {
			return "", "", err
		}
	}
	err = w.Flush()
	return data, root, errors.Join(err, f.Close())
}

// A fakeProc is a fake server in a child process.
type fakeProc struct {
	cmd  *exec.Cmd
	url  string
	done bool
}

func (b *bencher) fake(data string, extra ...string) (*fakeProc, error) {
	args := append([]string{"fake-server", "--addr", "127.0.0.1:0", "--data", data}, extra...)
	cmd := exec.CommandContext(b.ctx, b.exe, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = b.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("fake server: %w", err)
	}
	f := strings.Fields(line)
	url := ""
	for _, w := range f {
		if strings.HasPrefix(w, "http://") {
			url = w
		}
	}
	return &fakeProc{cmd: cmd, url: url}, nil
}

func (p *fakeProc) stop() {
	if p.done {
		return
	}
	p.done = true
	p.cmd.Process.Signal(os.Interrupt)
	p.cmd.Wait()
}

func (p *fakeProc) stats() (map[string]int64, error) {
	resp, err := http.Get(strings.TrimSuffix(p.url, "/v1") + "/stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]int64
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

func (p *fakeProc) requests() (int64, error) {
	m, err := p.stats()
	return m["model"] + m["judge"], err
}

func (p *fakeProc) judgeRequests() (int64, error) {
	m, err := p.stats()
	return m["judge"], err
}

// measured is one child run's cost.
type measured struct {
	wall, cpu, rssMB float64
	out              string
}

// run runs psveval run in a child process against srv and measures it.
func (b *bencher) run(srv *fakeProc, data, name string, extra ...string) (measured, error) {
	out := filepath.Join(b.dir, name)
	args := append([]string{"run", "--data", data, "--out", out, "--progress", "none",
		"--model-url", srv.url, "--model", "bench-vlm", "--judge-url", srv.url, "--judge-model", llmtest.DefaultJudge,
		"--concurrency", "64", "--judge-concurrency", "32"}, extra...)
	if !slices.Contains(extra, "--cache") {
		args = append(args, "--no-cache")
	}
	return b.measure(name, out, exec.CommandContext(b.ctx, b.exe, args...))
}

// naive runs this program's naive-run, the design the pipeline replaced,
// in a child process against srv and measures it.
func (b *bencher) naive(srv *fakeProc, data, name string) (measured, error) {
	out := filepath.Join(b.dir, name)
	return b.measure(name, out, exec.CommandContext(b.ctx, b.self, "naive-run", "--data", data, "--out", out,
		"--url", srv.url, "--model", "bench-vlm", "--judge-model", llmtest.DefaultJudge, "--workers", "32"))
}

// measure runs cmd and reports its wall time, CPU time and peak RSS.
func (b *bencher) measure(name, out string, cmd *exec.Cmd) (measured, error) {
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start).Seconds()
	if err != nil {
		return measured{}, fmt.Errorf("bench run %s: %v\n%s", name, err, errb.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return measured{}, errors.New("bench: no resource usage on this system")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	fmt.Fprintf(b.log, "bench: %s: %.2f s wall, %.2f CPU-s, %.0f MB peak RSS\n", name, wall, cpu, float64(ru.Maxrss)/1024)
	return measured{wall: wall, cpu: cpu, rssMB: float64(ru.Maxrss) / 1024, out: out}, nil
}

// modelCalls reads a run's model call counts from its summary.
func modelCalls(dir string) (eval.CallCounts, error) {
	ri := rundir.ReadRunInfo(dir)
	if ri == nil {
		return eval.CallCounts{}, fmt.Errorf("%s: no run information in its summary", dir)
	}
	return ri.Calls["model"], nil
}
