package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/llmtest"
)

// demoData finds the bundled fixture: under the working directory (go run
// ./cmd/psveval demo from the repository root), or beside this source
// file.
func demoData() (string, error) {
	const rel = "testdata/psv-mini.parquet"
	if _, err := os.Stat(rel); err == nil {
		return rel, nil
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Join(filepath.Dir(file), "..", "..", rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("cannot find the bundled " + rel + ": run the demo from the repository root, or give --data FILE")
}

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("demo", "[--out DIR] [--data FILE]", stderr)
	out := fs.String("out", "", "keep the run `directory` here (default: a temporary one, removed afterwards)")
	data := fs.String("data", "", "dataset `file` (default: the bundled testdata/psv-mini.parquet)")
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	if err := cmdline.CheckOutDir("--out", *out); err != nil {
		return err
	}
	if *data == "" {
		d, err := demoData()
		if err != nil {
			return cmdline.Usage(err)
		}
		*data = d
	}
	refs, err := llmtest.References(*data)
	if err != nil {
		return err
	}
	// Simulated endpoints: a little latency and a few faults, so the demo
	// shows retries at work.
	h := llmtest.NewHandler(llmtest.Config{
		References: refs, Seed: 1,
		ModelLatency: llmtest.Latency{Mean: 20 * time.Millisecond, Dist: "uniform"},
		JudgeLatency: llmtest.Latency{Mean: 40 * time.Millisecond, Dist: "uniform"},
		ModelFaults:  llmtest.Faults{Unavailable: 0.05, RetryAfter: "0"},
		JudgeFaults:  llmtest.Faults{RateLimit: 0.05, Think: 0.1, Malformed: 0.03, RetryAfter: "0"},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var serveErr error
	wg.Go(func() { serveErr = llmtest.Serve(sctx, ln, h) })
	defer func() { stop(); wg.Wait() }()

	dir := *out
	if dir == "" {
		tmp, err := os.MkdirTemp("", "psveval-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "run")
	}
	url := "http://" + ln.Addr().String() + "/v1"
	fmt.Fprintf(stderr, "demo: %s against simulated endpoints at %s\n", *data, url)
	o := defaultRunOptions()
	o.df.data, o.rf.out, o.rf.noCache, o.rf.progress = *data, dir, true, "none"
	o.ef.modelURLs, o.ef.model = cmdline.List{url}, "demo-vlm"
	o.ef.judgeURLs, o.ef.judgeModels = cmdline.List{url}, cmdline.List{llmtest.DefaultJudge}
	o.args = []string{"--data", *data, "--out", dir, "--no-cache", "--progress", "none", "--model-url", url, "--model", "demo-vlm", "--judge-url", url, "--judge-model", llmtest.DefaultJudge}
	o.title = "SIMULATED ENDPOINTS (psveval's fake server): these numbers describe no real model"
	err = o.run(ctx, stdout, stderr)
	if err == nil && *out == "" {
		fmt.Fprintln(stderr, "demo: the run directory was temporary; pass --out DIR to keep it")
	}
	return errors.Join(err, serveErr)
}
