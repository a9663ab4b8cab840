package pipeline

import "github.com/psveval/psveval/eval"

// An Estimate is what a job would request, measured without sending
// anything: psveval run --dry-run.
type Estimate struct {
	Items, Images int
	// ModelIn is the model's input tokens: text at 4 characters a token,
	// images as Qwen2.5-VL's 28×28 patches.
	ModelIn int64
	// MaxTokens is the model's max_tokens per item (0 when unknown), and
	// ModelOutMax the most output tokens it allows in all.
	MaxTokens   int
	ModelOutMax int64
	// Judges is the number of judges; JudgeCalls, the requests they would
	// make before repairs and retries; JudgeIn, the input tokens of the
	// prompts they would send, with the reference standing in for the
	// answer; JudgeOut, 40 output tokens a criterion.
	Judges                        int
	JudgeCalls, JudgeIn, JudgeOut int64
	// JudgeCachedIn is the part of JudgeIn that a provider's prefix
	// cache would serve: each request's prefix in common with the
	// request before it (the instructions every item shares; in
	// per-criterion mode, the item's own part too).
	JudgeCachedIn int64
	// JudgeCostUSD is the judge's cost at JudgePrice with those cache
	// hits; ModelCostMaxUSD the model's at ModelPrice, with every answer
	// at max_tokens (0 without a price).
	JudgeCostUSD, ModelCostMaxUSD float64
}

// SharedShare is the share of the judge's input tokens a prefix cache
// would serve, in [0, 1].
func (e *Estimate) SharedShare() float64 {
	if e.JudgeIn == 0 {
		return 0
	}
	return float64(e.JudgeCachedIn) / float64(e.JudgeIn)
}

// commonPrefix is the length in bytes of the prefix a and b share.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// A prompter renders the requests a judge would send; judges.LLM is one.
type prompter interface {
	Prompts(it eval.Item, answer string) ([][2]string, error)
}

// Estimate walks the dataset and measures what the job would request.
// The judge's input is measured on the prompts each judge would really
// send, with the reference standing in for the answer.
func (j *Job) Estimate() (*Estimate, error) {
	e := &Estimate{Judges: len(j.Judges)}
	var system, suffix string
	if m, ok := j.Model.(*LLMModel); ok {
		system, suffix = m.System, m.Suffix
	}
	var criteria int64
	prev := map[string]string{} // each judge's last request
	for it, err := range j.Dataset.All() {
		if err != nil {
			return nil, err
		}
		e.Items++
		e.ModelIn += int64(len(system)+len(it.Question)+len(suffix))/4 + 8
		for _, im := range it.Images {
			e.Images++
			e.ModelIn += int64(qwenImageTokens(im.Width, im.Height))
		}
		criteria += int64(len(it.Rubric))
		for _, js := range j.Judges {
			p, ok := js.Judge.(prompter)
			if !ok {
				continue
			}
			reqs, err := p.Prompts(it, it.Reference)
			if err != nil {
				return nil, err
			}
			for _, r := range reqs {
				e.JudgeIn += int64(len(r[0])+len(r[1])) / 4
				// The system message, then the user's: a chat template
				// puts them in that order, so a prefix cache matches
				// across both.
				req := r[0] + "\x00" + r[1]
				e.JudgeCachedIn += int64(commonPrefix(prev[js.Name], req)) / 4
				prev[js.Name] = req
			}
			e.JudgeCalls += int64(len(reqs))
		}
	}
	e.JudgeOut = criteria * 40 * int64(e.Judges)
	if j.Manifest != nil {
		switch mt := j.Manifest.Model.Params["max_tokens"].(type) {
		case int:
			e.MaxTokens = mt
		case float64:
			e.MaxTokens = int(mt)
		}
	}
	e.ModelOutMax = int64(e.Items) * int64(e.MaxTokens)
	e.JudgeCostUSD = j.JudgePrice.Cost(eval.Usage{Prompt: e.JudgeIn, Cached: e.JudgeCachedIn, Completion: e.JudgeOut})
	e.ModelCostMaxUSD = j.ModelPrice.Cost(eval.Usage{Prompt: e.ModelIn, Completion: e.ModelOutMax})
	return e, nil
}

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
