package main

import (
	"fmt"
	"io"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/pipeline"
)

// dryRun prints what the job would request, and sends nothing.
func dryRun(w io.Writer, j *pipeline.Job, judgeMode string) error {
	e, err := j.Estimate()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "dry run: nothing is sent\n")
	fmt.Fprintf(w, "items:            %d (%s)\n", e.Items, eval.Nouns(e.Images, "image"))
	fmt.Fprintf(w, "model requests:   %d to %s (%s)\n", e.Items, j.Manifest.Model.URL, j.Manifest.Model.Model)
	fmt.Fprintf(w, "  input tokens:   ~%d (text at 4 characters a token; images as Qwen2.5-VL's 28x28 patches)\n", e.ModelIn)
	fmt.Fprintf(w, "  output tokens:  at most %d (max_tokens %d per item)\n", e.ModelOutMax, e.MaxTokens)
	fmt.Fprintf(w, "judge requests:   %d (%s, %s mode), before repairs and retries\n", e.JudgeCalls, eval.Nouns(e.Judges, "judge"), judgeMode)
	fmt.Fprintf(w, "  input tokens:   ~%d (the prompts that would be sent, with the reference standing in for the answer)\n", e.JudgeIn)
	fmt.Fprintf(w, "  output tokens:  ~%d (40 per criterion)\n", e.JudgeOut)
	if in, out := j.JudgePrice[0], j.JudgePrice[1]; in > 0 || out > 0 {
		fmt.Fprintf(w, "judge cost:       ~$%.2f at $%g / $%g per million input / output tokens (no cache hits assumed)\n", e.JudgeCostUSD, in, out)
	}
	return nil
}
