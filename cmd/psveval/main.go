// Command psveval evaluates medical vision-language models on PSV2026-style
// VQA sets with a rubric-based LLM judge, and turns the results into the
// paper's per-question-type table, comparisons and CI gates.
//
// Usage:
//
//	psveval <command> [flags]
//
// Commands:
//
//	run          answer every item with the model, judge the answers, write a run directory
//	judge        judge an existing run's answers again (other judge, rubric, prompt or mode)
//	sweep        run a model at every point of a λ sweep and report the curve
//	merge        join the finished shards of a run into one run directory
//	report       print the per-type table for one or more run directories
//	compare      compare two runs item by item, with paired intervals and p-values
//	gate         exit 1 when a candidate run regresses significantly against a baseline
//	audit        measure a run's judge against human labels
//	agree        measure two judgings of the same answers against each other
//	plan         how many labels, or items, a study needs, from measured inputs
//	batch        write a run's requests as a batch file, or import its replies
//	inspect      describe a dataset: schema, mapping, counts, images, rubrics, problems
//	demo         run the whole pipeline on the bundled set against a simulated endpoint
//	fake-server  serve the simulated OpenAI-compatible model and judge endpoints
//	version      print the version
//	help         print this list, or a command's flags (psveval help run)
//
// Exit codes:
//
//	0  done
//	1  gate failed: a significant regression
//	2  usage, configuration or input error
//	3  operational failure: an endpoint's fatal error, an interrupted run,
//	   or unscored and errored items above --max-error-rate
//
// Example: evaluate a vLLM-served model with a DeepSeek judge, then gate it.
//
//	export PSVEVAL_JUDGE_API_KEY=...
//	psveval run --data psv2026-test.parquet \
//	    --model-url http://localhost:8000/v1 --model Lingshu-7B \
//	    --judge-url https://api.deepseek.com/v1 --judge-model deepseek-chat \
//	    --judge-param 'thinking={"type":"disabled"}' --judge-format json_object \
//	    --out runs/lingshu
//	psveval report --paper runs/lingshu
//	psveval gate --baseline runs/base --candidate runs/lingshu --max-drop 1.0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"syscall"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/rundir"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal cancels ctx; then the default handling returns, so
	// a second Ctrl-C kills the process at once.
	context.AfterFunc(ctx, stop)
	tuneGC(os.Args[1:])
	if path := os.Getenv("PSVEVAL_CPUPROFILE"); path != "" {
		// A profiling aid: PSVEVAL_CPUPROFILE=cpu.prof psveval run ...
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close() // os.Exit skips defers: StopCPUProfile is called below
		}
	}
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errGateFailed) && !cmdline.AlreadyPrinted(err) { // gate printed its verdict
		fmt.Fprintln(os.Stderr, "psveval:", err)
	}
	pprof.StopCPUProfile()
	os.Exit(exitCode(err))
}

// tuneGC trades memory the runtime would give back early for CPU, for
// the commands that run the pipeline. Their live heap is small (the items
// in flight and the journals' indexes), and with Go's default GOGC of 100
// the collector ran every few MB of allocation, 7% of a run's CPU. GOGC
// 400 collects a quarter as often; a soft limit of 72 MiB makes it
// collect sooner where images fill the heap, which keeps a 9,264-item run
// with images under psveval's 100 MB budget (BENCHMARKS.md). GOGC and
// GOMEMLIMIT in the environment win.
func tuneGC(args []string) {
	if len(args) == 0 || !slices.Contains([]string{"run", "judge", "sweep", "demo"}, args[0]) {
		return
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(72 << 20)
	}
}

// A command runs one subcommand. It writes results to stdout and logs and
// warnings to stderr.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "answer, judge and store every item", runCmd},
		{"judge", "judge an existing run's answers again", judgeCmd},
		{"sweep", "run a model at every point of a λ sweep and report the curve", sweepCmd},
		{"merge", "join the finished shards of a run into one run directory", mergeCmd},
		{"report", "print the per-type table for run directories", reportCmd},
		{"compare", "compare two runs item by item", compareCmd},
		{"gate", "exit 1 on a significant regression", gateCmd},
		{"audit", "measure a run's judge against human labels", auditCmd},
		{"agree", "measure two judgings of the same answers against each other", agreeCmd},
		{"plan", "how many labels, or items, a study needs, from measured inputs", planCmd},
		{"batch", "write a run's requests as a batch file, or import its replies", batchCmd},
		{"inspect", "describe a dataset", inspectCmd},
		{"demo", "run the pipeline on bundled data against a simulated endpoint", demoCmd},
		{"fake-server", "serve simulated model and judge endpoints", fakeServerCmd},
		{"version", "print the version", versionCmd},
	}
}

// run dispatches args to a subcommand. Tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return cmdline.Usagef("no command given")
	}
	name := args[0]
	if name == "--version" || name == "-version" || name == "-v" {
		name = "version"
	}
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 && args[1] == "help" {
			usage(stdout)
			return nil
		}
		if len(args) > 1 {
			for _, c := range commands() {
				if c.name == args[1] {
					return c.run(ctx, []string{"-h"}, stdout, stdout)
				}
			}
			return cmdline.Usagef("unknown command %q", args[1])
		}
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return cmdline.Usagef("unknown command %q", name)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: psveval <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  help         this list, or a command's flags: psveval help run")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "exit codes: 0 done, 1 gate failed, 2 usage or input error, 3 operational failure")
}

// errGateFailed is returned by gate when the candidate regressed: exit 1.
var errGateFailed = errors.New("gate failed")

// exitCode maps an error to the exit codes in the package comment.
func exitCode(err error) int {
	var ue *cmdline.UsageError
	var ie *eval.InputError
	var inc *incompleteError
	var be *rundir.ByError
	var rm *llm.ReplicaMismatchError
	var le *rundir.LockedError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errGateFailed):
		return 1
	case errors.As(err, &inc):
		return 3 // checked first: an unfinished run is operational, not bad input
	case errors.As(err, &ue), errors.As(err, &ie), errors.As(err, &be), errors.As(err, &rm), errors.As(err, &le):
		return 2
	}
	return 3
}
