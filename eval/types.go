package eval

import (
	"context"
	"time"
)

// A Model answers an item. Implementations must be safe for concurrent use.
type Model interface {
	Answer(ctx context.Context, it Item) (Answer, error)
}

// A Judge grades an answer against the item's rubric. It returns an error
// only when it could not get a reply at all (the item then errors and a
// resume retries it); a reply it cannot use is a [Verdict] whose criteria
// are unscorable. Implementations must be safe for concurrent use.
type Judge interface {
	Judge(ctx context.Context, it Item, ans Answer) (Verdict, error)
}

// A JudgeFunc adapts a function to [Judge].
type JudgeFunc func(ctx context.Context, it Item, ans Answer) (Verdict, error)

// Judge calls f.
func (f JudgeFunc) Judge(ctx context.Context, it Item, ans Answer) (Verdict, error) {
	return f(ctx, it, ans)
}

// A ModelFunc adapts a function to [Model].
type ModelFunc func(ctx context.Context, it Item) (Answer, error)

// Answer calls f.
func (f ModelFunc) Answer(ctx context.Context, it Item) (Answer, error) { return f(ctx, it) }

// Usage counts tokens.
type Usage struct {
	Prompt     int64 `json:"prompt_tokens"`
	Completion int64 `json:"completion_tokens"`
	// Cached is the part of Prompt the provider served from its prompt
	// cache (usage.prompt_tokens_details.cached_tokens, or DeepSeek's
	// prompt_cache_hit_tokens); 0 where it reports none. Reasoning is
	// the part of Completion spent thinking, where reported.
	Cached    int64 `json:"cached_prompt_tokens"`
	Reasoning int64 `json:"reasoning_tokens"`
}

// Add adds u2 to u.
func (u *Usage) Add(u2 Usage) {
	u.Prompt += u2.Prompt
	u.Completion += u2.Completion
	u.Cached += u2.Cached
	u.Reasoning += u2.Reasoning
}

// An Answer is what the model under test said.
type Answer struct {
	Text         string `json:"answer"`
	FinishReason string `json:"finish_reason"`
	// Model is the model id the endpoint reported.
	Model   string        `json:"served_model"`
	Usage   Usage         `json:"usage"`
	Latency time.Duration `json:"-"`
	Calls   CallCounts    `json:"calls"`
}

// CallCounts counts what one answer or judgment took: the requests sent
// (a judge's repairs and re-asks included), the HTTP retries among their
// attempts (errors, timeouts and blank completions sent again), and for a
// judge, the repair requests and the re-asks with a larger max_tokens
// after a cut-off reply. Requests plus Retries is the number of HTTP
// requests the endpoint received. Failed counts calls that ended in an
// error, in totals.
type CallCounts struct {
	Requests      int64 `json:"requests"`
	Retries       int64 `json:"retries"`
	Repairs       int64 `json:"repairs,omitempty"`
	LengthRetries int64 `json:"length_retries,omitempty"`
	Failed        int64 `json:"failed,omitempty"`
}

// Add adds d to c.
func (c *CallCounts) Add(d CallCounts) {
	c.Requests += d.Requests
	c.Retries += d.Retries
	c.Repairs += d.Repairs
	c.LengthRetries += d.LengthRetries
	c.Failed += d.Failed
}

// Request counts one request that took attempts HTTP attempts.
func (c *CallCounts) Request(attempts int) {
	c.Requests++
	c.Retries += int64(max(attempts-1, 0))
}

// A CriterionVerdict is the judge's decision on one criterion. Met is nil
// when the criterion could not be scored.
type CriterionVerdict struct {
	Dim         string `json:"dim"`
	Met         *bool  `json:"met"`
	Explanation string `json:"explanation,omitempty"`
}

// A Verdict is a judge's decision on one answer: one CriterionVerdict per
// rubric criterion, in rubric order.
type Verdict struct {
	Criteria []CriterionVerdict `json:"criteria"`
	// Unscorable says why some criteria are unscorable ("" when none is).
	Unscorable string `json:"unscorable,omitempty"`
	// Raw is the judge's last reply, verbatim.
	Raw string `json:"raw"`
	// Model is the judge model id the endpoint reported.
	Model string `json:"served_model"`
	// Fingerprint is the endpoint's system_fingerprint, where it sends one.
	Fingerprint string     `json:"system_fingerprint,omitempty"`
	Usage       Usage      `json:"usage"`
	Calls       CallCounts `json:"calls"`
	// Order lists the criteria in the order the judge was shown them,
	// when that was not the rubric's (a shuffled judge).
	Order []string `json:"order,omitempty"`
}

// Met returns the verdicts' Met values in order.
func (v *Verdict) Met() []*bool {
	m := make([]*bool, len(v.Criteria))
	for i, c := range v.Criteria {
		m[i] = c.Met
	}
	return m
}

// A JudgeSpec is a configured judge and what identifies it: two judges
// with the same Fingerprint give the same verdicts, so a verdict cached
// under one serves the other.
type JudgeSpec struct {
	// Name labels the judge in reports (its model id, say).
	Name string
	// Fingerprint identifies the judge's model, parameters, prompt, mode
	// and reply format.
	Fingerprint string
	// Endpoint is the normalised URL of the server that judges: the
	// cross-run judgment cache keys by it too, so another server under
	// the same model name is asked afresh. "" for a judge without one.
	Endpoint string
	Judge    Judge
}
