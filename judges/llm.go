// Package judges implements [eval.Judge]: LLM, a rubric judge behind an
// OpenAI-compatible endpoint, and the parser that reads its verdicts.
package judges

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	openai "github.com/sashabaranov/go-openai"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/rubric"
)

// Judge modes.
const (
	// ModeJoint grades all of an item's criteria in one call.
	ModeJoint = "joint"
	// ModePerCriterion grades each criterion in its own call, as
	// HealthBench does.
	ModePerCriterion = "per-criterion"
)

// Reply formats, sent as response_format.
const (
	// FormatJSONSchema sends a strict JSON schema (vLLM, OpenAI).
	FormatJSONSchema = "json_schema"
	// FormatJSONObject asks for any JSON object (DeepSeek's JSON mode).
	FormatJSONObject = "json_object"
	// FormatNone sends no response_format.
	FormatNone = "none"
	// FormatAuto starts with FormatJSONSchema and, when the endpoint
	// refuses a response_format with a 400 or 422 that the next format
	// does not get, falls back to FormatJSONObject, then FormatNone, for
	// the rest of the run.
	FormatAuto = "auto"
)

// Formats lists the reply formats, FormatAuto first.
var Formats = []string{FormatAuto, FormatJSONSchema, FormatJSONObject, FormatNone}

// autoChain is the order FormatAuto tries formats in.
var autoChain = []string{FormatJSONSchema, FormatJSONObject, FormatNone}

// DefaultRepairs is how many repair requests a bad reply gets.
const DefaultRepairs = 2

// Config configures an [LLM] judge.
type Config struct {
	Client *llm.Client
	// Model is the judge model to request.
	Model string
	// Params are the sampling parameters the client sends; they are part
	// of the fingerprint.
	Params map[string]any
	// Prompt is the template (default: rubric.PromptJoint, or
	// rubric.PromptPerCriterion in that mode).
	Prompt *rubric.Prompt
	// Mode is ModeJoint (default) or ModePerCriterion.
	Mode string
	// Format is FormatAuto (default), FormatJSONSchema, FormatJSONObject
	// or FormatNone.
	Format string
	// OnFallback, when set, is called once for each fallback FormatAuto
	// makes, with the format given up, the one taken and the refusal.
	OnFallback func(from, to string, refusal error)
	// Repairs bounds the repair requests per call (negative: none).
	Repairs int
	// MaxTokens is the reply's token budget; a reply cut off by it is
	// retried once with twice the budget.
	MaxTokens int
	// Order is OrderFixed (default: the rubric's order) or OrderShuffle:
	// in joint mode, each item's criteria are shown in a random order
	// drawn from OrderSeed and the item's id, so that a judge's bias for
	// a position averages out instead of leaning on one criterion.
	Order     string
	OrderSeed uint64
}

// Criterion orders.
const (
	OrderFixed   = "fixed"
	OrderShuffle = "shuffle"
)

// Orders lists the criterion orders.
var Orders = []string{OrderFixed, OrderShuffle}

// An LLM is a rubric judge behind an OpenAI-compatible endpoint. It is
// safe for concurrent use.
type LLM struct {
	cfg   Config
	fp    string
	level atomic.Int32 // FormatAuto: the index in autoChain in use
	// schemas holds the verdict schema of each list of labels asked about
	// (keyed by schemaKey): every request of a rubric shape sends the same
	// 1.5 KB. It holds at most maxSchemas.
	schemasMu sync.RWMutex
	schemas   map[string]json.RawMessage
}

// maxSchemas bounds the schemas an LLM judge keeps: a dataset whose items
// each name their own criteria builds each item's schema afresh.
const maxSchemas = 1024

// New returns a judge for cfg, filling in defaults.
func New(cfg Config) (*LLM, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModeJoint
	}
	if cfg.Mode != ModeJoint && cfg.Mode != ModePerCriterion {
		return nil, fmt.Errorf("judges: unknown mode %q (want %s or %s)", cfg.Mode, ModeJoint, ModePerCriterion)
	}
	if cfg.Format == "" {
		cfg.Format = FormatAuto
	}
	if !slices.Contains(Formats, cfg.Format) {
		return nil, fmt.Errorf("judges: unknown format %q (want %s)", cfg.Format, strings.Join(Formats, ", "))
	}
	if cfg.Prompt == nil {
		name := rubric.PromptJoint
		if cfg.Mode == ModePerCriterion {
			name = rubric.PromptPerCriterion
		}
		cfg.Prompt = rubric.MustPrompt(name)
	}
	if cfg.Repairs == 0 {
		cfg.Repairs = DefaultRepairs
	}
	cfg.Repairs = max(cfg.Repairs, 0)
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 2048
	}
	if cfg.Order == "" {
		cfg.Order = OrderFixed
	}
	switch {
	case !slices.Contains(Orders, cfg.Order):
		return nil, fmt.Errorf("judges: unknown criterion order %q (want %s)", cfg.Order, strings.Join(Orders, " or "))
	case cfg.Order == OrderShuffle && cfg.Mode != ModeJoint:
		return nil, fmt.Errorf("judges: criterion order %s needs %s mode: in %s mode each criterion is asked alone", OrderShuffle, ModeJoint, cfg.Mode)
	case cfg.Order == OrderFixed:
		cfg.OrderSeed = 0
	}
	// The order and its seed are in the fingerprint, so in the cache
	// key: a shuffled judging never reuses a fixed one, nor one shuffled
	// by another seed.
	b, _ := json.Marshal(struct {
		Model, Prompt, Mode, Format string
		Repairs, MaxTokens          int
		Params                      map[string]any
		Order                       string `json:",omitempty"`
		OrderSeed                   uint64 `json:",omitempty"`
	}{cfg.Model, cfg.Prompt.Hash, cfg.Mode, cfg.Format, cfg.Repairs, cfg.MaxTokens, cfg.Params, strings.TrimPrefix(cfg.Order, OrderFixed), cfg.OrderSeed})
	sum := sha256.Sum256(b)
	return &LLM{cfg: cfg, fp: hex.EncodeToString(sum[:])}, nil
}

// Fingerprint identifies everything that shapes this judge's verdicts.
func (j *LLM) Fingerprint() string { return j.fp }

// Config returns the judge's configuration, defaults filled in.
func (j *LLM) Config() Config { return j.cfg }

// FormatInUse returns the reply format the judge sends now: its Format,
// or under FormatAuto the one it has settled on so far.
func (j *LLM) FormatInUse() string {
	if j.cfg.Format != FormatAuto {
		return j.cfg.Format
	}
	return autoChain[j.level.Load()]
}

// send sends req with the format in use, counting it into v. Under
// FormatAuto, a 400 or 422 is tried again with each later format: when
// one is accepted, the format was the problem and the judge keeps the
// later one for good; when every one is refused, the request itself was
// (a prompt over the context, say) and its first error is returned.
func (j *LLM) send(ctx context.Context, v *eval.Verdict, req openai.ChatCompletionRequest, labels []string) (llm.Response, error) {
	level := int(j.level.Load())
	req.ResponseFormat = j.format(j.FormatInUse(), labels)
	resp, err := j.cfg.Client.Chat(ctx, req)
	v.Calls.Request(resp.Attempts)
	if j.cfg.Format != FormatAuto || !refused(err) {
		return resp, err
	}
	for next := level + 1; next < len(autoChain); next++ {
		req.ResponseFormat = j.format(autoChain[next], labels)
		r2, err2 := j.cfg.Client.Chat(ctx, req)
		v.Calls.Request(r2.Attempts)
		if refused(err2) {
			continue
		}
		if j.level.CompareAndSwap(int32(level), int32(next)) && j.cfg.OnFallback != nil {
			j.cfg.OnFallback(autoChain[level], autoChain[next], err)
		}
		return r2, err2
	}
	return resp, err
}

// refused reports a 400 or 422: the endpoint refused the request as sent.
func refused(err error) bool {
	se, ok := errors.AsType[*llm.StatusError](err)
	return ok && (se.Status == http.StatusBadRequest || se.Status == http.StatusUnprocessableEntity)
}

// Judge grades ans against the item's rubric. It returns an error only when the
// endpoint gave no reply; a reply that stays unusable after the repairs
// gives unscorable criteria.
func (j *LLM) Judge(ctx context.Context, it eval.Item, ans eval.Answer) (eval.Verdict, error) {
	labels := rubric.Labels(it.Rubric)
	if j.cfg.Mode == ModeJoint {
		if j.cfg.Order == OrderShuffle {
			return j.shuffled(ctx, it, ans)
		}
		return j.call(ctx, it, ans, it.Rubric, labels)
	}
	v := eval.Verdict{Criteria: make([]eval.CriterionVerdict, len(it.Rubric))}
	var raws, reasons []string
	for i := range it.Rubric {
		one, err := j.call(ctx, it, ans, it.Rubric[i:i+1], labels[i:i+1])
		v.Usage.Add(one.Usage)
		v.Calls.Add(one.Calls)
		if err != nil {
			return v, err
		}
		v.Criteria[i] = one.Criteria[0]
		v.Model, v.Fingerprint = one.Model, one.Fingerprint
		raws = append(raws, one.Raw)
		if one.Unscorable != "" {
			reasons = append(reasons, labels[i]+": "+one.Unscorable)
		}
	}
	v.Raw = strings.Join(raws, "\n---\n")
	v.Unscorable = strings.Join(reasons, "; ")
	return v, nil
}

// shuffled judges the item's criteria shown in its own random order,
// and returns the verdicts in the rubric's order, with the order shown
// recorded in the verdict.
func (j *LLM) shuffled(ctx context.Context, it eval.Item, ans eval.Answer) (eval.Verdict, error) {
	p := j.parts(it)[0]
	v, err := j.call(ctx, it, ans, p.cs, p.labels)
	shown := v.Criteria
	v.Criteria = make([]eval.CriterionVerdict, len(p.idx))
	for k, i := range p.idx {
		v.Criteria[i] = shown[k]
	}
	v.Order = p.labels
	return v, err
}

// CriterionOrder is the order, as rubric indexes, in which a shuffled
// judge shows an item's n criteria: a permutation drawn from seed and
// the item's id alone, so that a resume, a cache and another run with
// the same seed show the same order.
func CriterionOrder(seed uint64, item string, n int) []int {
	h := sha256.Sum256(fmt.Appendf(nil, "criterion-order\x00%d\x00%s", seed, item))
	r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
	return r.Perm(n)
}

// render renders the first request's prompts for the criteria cs.
func (j *LLM) render(it eval.Item, answer string, cs []rubric.Criterion, labels []string) (sys, user string, err error) {
	return j.cfg.Prompt.Render(rubric.PromptInput{
		Question: it.Question, Reference: it.Reference, Answer: answer, Criteria: cs, Labels: labels,
	})
}

// Prompts returns the (system, user) prompts of the requests the judge
// would send first to grade answer: one in joint mode, one per criterion
// in per-criterion mode; repairs and retries are not counted. It lets a
// dry run estimate the judge's input from what would really be sent.
func (j *LLM) Prompts(it eval.Item, answer string) ([][2]string, error) {
	var out [][2]string
	for _, p := range j.parts(it) {
		sys, user, err := j.render(it, answer, p.cs, p.labels)
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{sys, user})
	}
	return out, nil
}

// call grades the criteria cs (labelled labels) in one conversation: the
// first request, then repairs and one longer retry as needed.
func (j *LLM) call(ctx context.Context, it eval.Item, ans eval.Answer, cs []rubric.Criterion, labels []string) (eval.Verdict, error) {
	v := eval.Verdict{Criteria: make([]eval.CriterionVerdict, len(cs))}
	for i := range cs {
		v.Criteria[i].Dim = labels[i]
	}
	sys, user, err := j.render(it, ans.Text, cs, labels)
	if err != nil {
		return v, err
	}
	msgs := []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: sys},
		{Role: openai.ChatMessageRoleUser, Content: user},
	}
	maxTokens, longer := j.cfg.MaxTokens, false
	for {
		req := openai.ChatCompletionRequest{Model: j.cfg.Model, Messages: msgs}
		if longer {
			//lint:ignore SA1019 vLLM and llama-server read max_tokens, not max_completion_tokens (OpenAI o1's name), so psveval sends max_tokens on purpose
			req.MaxTokens = maxTokens // overrides the client's max_tokens parameter
		}
		resp, err := j.send(ctx, &v, req, labels)
		v.Usage.Add(eval.Usage(resp.Billed))
		if err != nil {
			return v, err
		}
		v.Model, v.Fingerprint = resp.Model, resp.SystemFingerprint
		c := resp.Choices[0]
		v.Raw = c.Message.Content
		if v.Raw == "" {
			v.Raw = c.Message.ReasoningContent
		}
		if c.FinishReason == openai.FinishReasonLength {
			if !longer {
				longer, maxTokens = true, 2*maxTokens
				v.Calls.LengthRetries++
				continue
			}
			v.Unscorable = fmt.Sprintf("the reply was cut off at %d tokens twice", maxTokens)
			return v, nil
		}
		marks, err := ParseVerdict(c.Message.Content, c.Message.ReasoningContent, labels)
		if err == nil {
			for i, m := range marks {
				met := m.Met
				v.Criteria[i].Met, v.Criteria[i].Explanation = &met, m.Explanation
			}
			return v, nil
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			return v, err
		}
		if v.Calls.Repairs >= int64(j.cfg.Repairs) {
			v.Unscorable = "unusable reply after " + eval.Nouns(v.Calls.Repairs, "repair") + ": " + pe.Reason
			return v, nil
		}
		v.Calls.Repairs++
		msgs = append(msgs[:2:2],
			openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: llm.Clip(v.Raw, 4000)},
			openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: repairPrompt(pe, labels)},
		)
	}
}

func repairPrompt(pe *ParseError, labels []string) string {
	return "Your reply could not be used: " + pe.Reason + ".\n" +
		`Reply again with only one JSON object, {"criteria":[{"dim":"...","met":true,"explanation":"..."}]}, ` +
		"with exactly one entry for each of these dims, copied exactly: " + strings.Join(labels, ", ") + "."
}

// format returns the response_format f asks for a reply about labels.
func (j *LLM) format(f string, labels []string) *openai.ChatCompletionResponseFormat {
	switch f {
	case FormatJSONObject:
		return &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	case FormatJSONSchema:
		return &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name: "rubric_verdict", Strict: true, Schema: j.schema(labels),
			},
		}
	}
	return nil
}

// schema returns verdictSchema(labels), built once per list of labels.
func (j *LLM) schema(labels []string) json.RawMessage {
	var buf [256]byte
	key := schemaKey(buf[:0], labels)
	j.schemasMu.RLock()
	s, ok := j.schemas[string(key)]
	j.schemasMu.RUnlock()
	if ok {
		return s
	}
	s = verdictSchema(labels)
	j.schemasMu.Lock()
	if j.schemas == nil {
		j.schemas = map[string]json.RawMessage{}
	}
	if len(j.schemas) < maxSchemas {
		j.schemas[string(key)] = s
	}
	j.schemasMu.Unlock()
	return s
}

// schemaKey appends the labels, each after its length, to b.
func schemaKey(b []byte, labels []string) []byte {
	for _, l := range labels {
		b = strconv.AppendInt(b, int64(len(l)), 10)
		b = append(b, ':')
		b = append(b, l...)
	}
	return b
}

// verdictSchema is the JSON schema of a verdict on labels. Each position
// of the criteria array is pinned to its criterion (prefixItems, with the
// dim a const, in the prompt's order), and the array holds exactly
// len(labels) entries, so a grammar-constrained judge (vLLM's structured
// outputs, llama.cpp) can only grade every criterion once. Properties are
// written in the prompt's order, dim, met, explanation: a grammar emits
// them in schema order. It does not use "items": false, which llama.cpp
// refuses; maxItems does that work.
func verdictSchema(labels []string) json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"type":"object","properties":{"criteria":{"type":"array","prefixItems":[`)
	for i, l := range labels {
		if i > 0 {
			b.WriteByte(',')
		}
		dim, _ := json.Marshal(l)
		b.WriteString(`{"type":"object","properties":{"dim":{"type":"string","const":`)
		b.Write(dim)
		b.WriteString(`},"met":{"type":"boolean"},"explanation":{"type":"string","maxLength":600}},"required":["dim","met","explanation"],"additionalProperties":false}`)
	}
	fmt.Fprintf(&b, `],"minItems":%d,"maxItems":%d}},"required":["criteria"],"additionalProperties":false}`, len(labels), len(labels))
	return json.RawMessage(b.String())
}

// Requests returns the first requests Judge would send to grade answer,
// at the reply format in use: one in joint mode (criteria in the order
// the judge shows them), one per criterion in per-criterion mode. With
// [LLM.Verdict] they let a judgment be made offline, by a batch.
func (j *LLM) Requests(it eval.Item, answer string) ([]openai.ChatCompletionRequest, error) {
	var out []openai.ChatCompletionRequest
	for _, part := range j.parts(it) {
		sys, user, err := j.render(it, answer, part.cs, part.labels)
		if err != nil {
			return nil, err
		}
		out = append(out, openai.ChatCompletionRequest{Model: j.cfg.Model,
			Messages: []openai.ChatCompletionMessage{
				{Role: openai.ChatMessageRoleSystem, Content: sys},
				{Role: openai.ChatMessageRoleUser, Content: user},
			},
			ResponseFormat: j.format(j.FormatInUse(), part.labels)})
	}
	return out, nil
}

// A part is the criteria one request grades: their rubric indexes,
// criteria and labels, in the order shown.
type part struct {
	idx    []int
	cs     []rubric.Criterion
	labels []string
}

// parts splits an item's rubric into the requests that grade it.
func (j *LLM) parts(it eval.Item) []part {
	labels := rubric.Labels(it.Rubric)
	if j.cfg.Mode == ModeJoint {
		order := make([]int, len(it.Rubric))
		for i := range order {
			order[i] = i
		}
		if j.cfg.Order == OrderShuffle {
			order = CriterionOrder(j.cfg.OrderSeed, it.ID, len(it.Rubric))
		}
		p := part{idx: order}
		for _, i := range order {
			p.cs, p.labels = append(p.cs, it.Rubric[i]), append(p.labels, labels[i])
		}
		return []part{p}
	}
	out := make([]part, len(it.Rubric))
	for i := range it.Rubric {
		out[i] = part{idx: []int{i}, cs: it.Rubric[i : i+1], labels: labels[i : i+1]}
	}
	return out
}

// Verdict reads the replies to [LLM.Requests], in order, with what each
// was billed, into the verdict Judge would give. A reply that was cut
// off or does not parse is an error: online, the judge would ask again,
// so the judgment is left to the run.
func (j *LLM) Verdict(it eval.Item, replies []openai.ChatCompletionResponse, billed []eval.Usage) (eval.Verdict, error) {
	parts := j.parts(it)
	if len(replies) != len(parts) {
		return eval.Verdict{}, fmt.Errorf("%d replies for %d requests", len(replies), len(parts))
	}
	v := eval.Verdict{Criteria: make([]eval.CriterionVerdict, len(it.Rubric))}
	var raws []string
	for k, p := range parts {
		r := replies[k]
		v.Usage.Add(billed[k])
		v.Calls.Request(1)
		c := r.Choices[0]
		if c.FinishReason == openai.FinishReasonLength {
			return v, fmt.Errorf("reply %d was cut off at max_tokens", k+1)
		}
		marks, err := ParseVerdict(c.Message.Content, c.Message.ReasoningContent, p.labels)
		if err != nil {
			return v, fmt.Errorf("reply %d: %w", k+1, err)
		}
		for n, m := range marks {
			met := m.Met
			v.Criteria[p.idx[n]] = eval.CriterionVerdict{Dim: p.labels[n], Met: &met, Explanation: m.Explanation}
		}
		raws = append(raws, c.Message.Content)
		v.Model, v.Fingerprint = r.Model, r.SystemFingerprint
		if j.cfg.Order == OrderShuffle {
			v.Order = p.labels
		}
	}
	v.Raw = strings.Join(raws, "\n---\n")
	return v, nil
}
