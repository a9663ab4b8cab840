// Command gen writes the committed PSV2026-shaped fixtures:
//
//	go run ./testdata/gen            # writes testdata/psv-mini.{parquet,jsonl}
//	go run ./testdata/gen -out DIR
//
// The files are a deterministic function of evaltest.Fixture; the test
// TestFixturesUpToDate checks that the committed copies match.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/psveval/psveval/eval/evaltest"
)

func main() {
	out := flag.String("out", "testdata", "folder to write psv-mini.parquet and psv-mini.jsonl into")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	var pq, jl bytes.Buffer
	if err := evaltest.WriteParquet(&pq, evaltest.Fixture); err != nil {
		return err
	}
	if err := evaltest.WriteJSONL(&jl, evaltest.Fixture); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"psv-mini.parquet": pq.Bytes(), "psv-mini.jsonl": jl.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d bytes)\n", filepath.Join(dir, name), len(b))
	}
	return nil
}
