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
	fmt.Fprintf(w, "  shared prefix:  %.0f%% of the judge's input tokens (~%d) repeat the request before, which a provider's prefix cache can serve\n", 100*e.SharedShare(), e.JudgeCachedIn)
	if !j.JudgePrice.IsZero() {
		fmt.Fprintf(w, "judge cost:       ~$%.4f at %s per million tokens, with the shared prefix billed as cached\n", e.JudgeCostUSD, j.JudgePrice)
	}
	if !j.ModelPrice.IsZero() {
		fmt.Fprintf(w, "model cost:       at most $%.4f at %s per million tokens (every answer at max_tokens)\n", e.ModelCostMaxUSD, j.ModelPrice)
	}
	return nil
}
