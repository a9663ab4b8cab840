package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/store"
)

// batchCmd writes the requests a run still needs as an OpenAI Batch
// input file, or journals a batch output file into the run.
func batchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "import") {
		return cmdline.Usagef("batch takes export or import, with the run's settings:\n  psveval batch export --config eval.yaml --out RUN --what answers|judgments -o requests.jsonl\n  psveval batch import --config eval.yaml --out RUN responses.jsonl")
	}
	verb := args[0]
	fs := cmdline.NewFlagSet("batch "+verb, "[run flags] "+map[string]string{"export": "--what answers|judgments -o FILE", "import": "RESPONSES.jsonl"}[verb], stderr)
	var o runOptions
	o.register(fs)
	what := fs.String("what", pipeline.BatchAnswers, "export: the requests to write: answers (the model's) or judgments (the judges', for answered items)")
	outFile := fs.String("o", "", "export: the batch input `file` to write")
	if err := cmdline.Parse(fs, args[1:]); err != nil {
		return err
	}
	o.args = runArgsOf(args[1 : len(args)-fs.NArg()])
	logger, err := newLogger(stderr, o.rf.logLevel)
	if err != nil {
		return err
	}
	if verb == "export" {
		switch {
		case *outFile == "" || fs.NArg() > 0:
			return cmdline.Usagef("batch export writes one file: give -o FILE and no other arguments")
		case !slices.Contains([]string{pipeline.BatchAnswers, pipeline.BatchJudgments}, *what):
			return cmdline.Usagef("--what %q: want answers or judgments", *what)
		}
		if err := cmdline.CheckOutFile("-o", *outFile); err != nil {
			return err
		}
	} else if fs.NArg() != 1 {
		return cmdline.Usagef("batch import takes one batch output file")
	}
	pj, err := o.job(logger, stderr)
	if err != nil {
		return err
	}
	if verb == "export" {
		return batchExport(pj, *what, *outFile, stderr)
	}
	return batchImport(pj, fs.Arg(0), o.rf.out, stderr)
}

// batchExport writes the batch input file of the requests what names.
func batchExport(pj *pipeline.Job, what, path string, stderr io.Writer) error {
	n := 0
	err := store.WriteFileFunc(path, func(w io.Writer) error {
		var err error
		n, err = pj.Export(what, w)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %s for %s; serve it (vllm run-batch -i %s -o results.jsonl --model …), then psveval batch import with the same settings\n",
		path, eval.Nouns(n, "request"), what, path)
	return nil
}

// batchImport journals the batch output file at path into the run.
func batchImport(pj *pipeline.Job, path, dir string, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return cmdline.Usage(err)
	}
	defer f.Close()
	rep, err := pj.Import(path, f)
	if _, ok := errors.AsType[*pipeline.BatchError](err); ok {
		return cmdline.Usage(err)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "imported %s and %s into %s\n", eval.Nouns(rep.Answers, "answer"), eval.Nouns(rep.Judgments, "judgment"), dir)
	if len(rep.Left) > 0 {
		fmt.Fprintf(stderr, "left to the run, which asks them online: %s\n  %s\n", eval.Nouns(len(rep.Left), "request"), strings.Join(rep.Left, "\n  "))
	}
	fmt.Fprintf(stderr, "then: psveval run with the same settings finishes the run, asking only what is still missing\n")
	return nil
}

// runArgsOf drops batch's own flags from its flag arguments, leaving the
// run's, for the manifest and the resume command.
func runArgsOf(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--what" || a == "-what" || a == "-o" || a == "--o":
			i++
		case strings.HasPrefix(a, "--what=") || strings.HasPrefix(a, "-what=") || strings.HasPrefix(a, "-o=") || strings.HasPrefix(a, "--o="):
		default:
			out = append(out, a)
		}
	}
	return out
}
