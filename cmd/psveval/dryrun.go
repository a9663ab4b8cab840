package main

import (
	"fmt"
	"io"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/pipeline"
)

// qwenImageTokens estimates the visual tokens Qwen2.5-VL spends on a
// w×h image: one token per 28×28 patch, the image scaled into
// [min_pixels, max_pixels] first (the defaults 3,136 and 12,845,056).
func qwenImageTokens(w, h int) int {
	px := float64(w * h)
	switch {
	case px > 12845056:
		px = 12845056
	case px < 3136:
		px = 3136
	}
	return int(px/784) + 2
}

// A prompter renders the requests a judge would send; judges.LLM is one.
type prompter interface {
	Prompts(it eval.Item, answer string) ([][2]string, error)
}

// dryRun walks the dataset and prints what the run would request. The
// judge's input is measured on the prompts each judge would really send
// (its --judge-prompt and --judge-mode), with the reference standing in
// for the answer.
func dryRun(w io.Writer, j *pipeline.Job, ef endpointFlags) error {
	var items, images int
	var modelIn, judgeIn, judgeCalls, criteria int64
	for it, err := range j.Dataset.All() {
		if err != nil {
			return err
		}
		items++
		modelIn += int64(len(ef.system)+len(it.Question)+len(ef.suffix))/4 + 8
		for _, im := range it.Images {
			images++
			modelIn += int64(qwenImageTokens(im.Width, im.Height))
		}
		criteria += int64(len(it.Rubric))
		for _, js := range j.Judges {
			p, ok := js.Judge.(prompter)
			if !ok {
				continue
			}
			reqs, err := p.Prompts(it, it.Reference)
			if err != nil {
				return err
			}
			for _, r := range reqs {
				judgeIn += int64(len(r[0])+len(r[1])) / 4
			}
			judgeCalls += int64(len(reqs))
		}
	}
	nj := int64(len(j.Judges))
	judgeOut := criteria * 40 * nj
	fmt.Fprintf(w, "dry run: nothing is sent\n")
	fmt.Fprintf(w, "items:            %d (%s)\n", items, eval.Nouns(images, "image"))
	fmt.Fprintf(w, "model requests:   %d to %s (%s)\n", items, j.Manifest.Model.URL, j.Manifest.Model.Model)
	fmt.Fprintf(w, "  input tokens:   ~%d (text at 4 characters a token; images as Qwen2.5-VL's 28x28 patches)\n", modelIn)
	fmt.Fprintf(w, "  output tokens:  at most %d (max_tokens %d per item)\n", int64(items)*int64(ef.maxTokens), ef.maxTokens)
	fmt.Fprintf(w, "judge requests:   %d (%s, %s mode), before repairs and retries\n", judgeCalls, eval.Nouns(nj, "judge"), ef.judgeMode)
	fmt.Fprintf(w, "  input tokens:   ~%d (the prompts that would be sent, with the reference standing in for the answer)\n", judgeIn)
	fmt.Fprintf(w, "  output tokens:  ~%d (40 per criterion)\n", judgeOut)
	if in, out := j.JudgePrice[0], j.JudgePrice[1]; in > 0 || out > 0 {
		cost := (float64(judgeIn)*in + float64(judgeOut)*out) / 1e6
		fmt.Fprintf(w, "judge cost:       ~$%.2f at $%g / $%g per million input / output tokens (no cache hits assumed)\n", cost, in, out)
	}
	return nil
}
