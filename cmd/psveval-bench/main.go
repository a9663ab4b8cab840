// Command psveval-bench measures the end-to-end figures of BENCHMARKS.md:
// efficiency against the ideal wall time, the naive one-pool design for
// comparison, CPU per item, the throughput ceiling, peak memory, resume
// and cache costs. It is a development tool, kept out of the shipped
// psveval command: it builds psveval (or takes --psveval) and measures it
// as a child process.
//
//	go run ./cmd/psveval-bench --runs 3
//	go run ./cmd/psveval-bench --what efficiency,naive --n 9264
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "naive-run":
		err = naiveRun(ctx, os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "lean-run":
		err = leanRun(ctx, os.Args[2:])
	default:
		err = bench(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "psveval-bench:", err)
		os.Exit(1)
	}
}
