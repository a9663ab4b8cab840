package judges

import (
	"fmt"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/rundir"
)

// A Panel is the judges of a run: one LLM judge per model, each with its
// spec (the name it votes under), its manifest entry and its client, in
// the order of the models.
type Panel struct {
	Specs   []eval.JudgeSpec
	Infos   []rundir.JudgeInfo
	Clients []*llm.Client
}

// NewPanel builds a judge for each of models, each like base but for its
// model and client. urls holds one URL for every judge, or one per model;
// client builds the client of a URL. A model named twice votes twice,
// under "model#2". onFallback, when set, hears of a judge that fell back
// to another reply format.
func NewPanel(base Config, models, urls []string, client func(url string) *llm.Client, onFallback func(model, from, to string, refusal error)) (*Panel, error) {
	if len(urls) == 0 || len(models) == 0 {
		return nil, fmt.Errorf("give the judge endpoint: --judge-url URL --judge-model NAME")
	}
	if len(urls) != 1 && len(urls) != len(models) {
		return nil, fmt.Errorf("%d --judge-url for %d --judge-model: give one URL for all, or one per model", len(urls), len(models))
	}
	p := &Panel{}
	seen := map[string]int{}
	for i, model := range models {
		url := urls[min(i, len(urls)-1)]
		cfg := base
		cfg.Client, cfg.Model = client(url), model
		if onFallback != nil {
			cfg.OnFallback = func(from, to string, refusal error) { onFallback(model, from, to, refusal) }
		}
		j, err := New(cfg)
		if err != nil {
			return nil, err
		}
		name := model
		if seen[model]++; seen[model] > 1 {
			name = fmt.Sprintf("%s#%d", model, seen[model])
		}
		c := j.Config()
		p.Specs = append(p.Specs, eval.JudgeSpec{Name: name, Fingerprint: j.Fingerprint(), Endpoint: llm.NormalizeURL(url), Judge: j})
		p.Infos = append(p.Infos, rundir.JudgeInfo{
			Name: name, URL: llm.RedactURL(url), Model: model, Params: cfg.Params,
			Prompt: rundir.PromptInfo{Name: c.Prompt.Name, SHA256: c.Prompt.Hash},
			Mode:   c.Mode, Format: c.Format, Repairs: c.Repairs, Fingerprint: j.Fingerprint(),
		})
		if c.Order == OrderShuffle {
			p.Infos[len(p.Infos)-1].CriterionOrder, p.Infos[len(p.Infos)-1].CriterionOrderSeed = c.Order, c.OrderSeed
		}
		p.Clients = append(p.Clients, cfg.Client)
	}
	return p, nil
}
