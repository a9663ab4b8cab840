package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/judges"
	"github.com/psveval/psveval/rubric"
)

// endpointFlags configure the model under test and the judges.
type endpointFlags struct {
	modelURLs                       cmdline.List
	modelURL, model, system, suffix string
	modelParams                     cmdline.Params
	maxTokens, seed                 int
	modelRPS                        float64

	judgeURLs, judgeModels cmdline.List
	judgeParams            cmdline.Params
	judgeFormat, judgeMode string
	criterionOrder         string
	criterionSeed          uint64
	judgePrompt            string
	judgeRepairs           int
	judgeMaxTokens         int
	judgeRPS               float64

	maxAttempts int
	breaker     int
	// concAuto and judgeAuto are --concurrency auto and --judge-concurrency
	// auto: an adaptive limit (up to --max-concurrency) per endpoint.
	concAuto, judgeAuto  bool
	maxConc              int
	modelAIMD, judgeAIMD *llm.AIMD
	preflight            bool
	callTimeout          time.Duration
	maxRespBytes         int64
	concurrency          int
	judgeConc            int
	score                string
}

func (e *endpointFlags) registerModel(fs *flag.FlagSet) {
	fs.Var(&e.modelURLs, "model-url", "model endpoint `URL`, OpenAI-compatible (vLLM: http://HOST:8000/v1); repeat it for replicas of the model, which share the requests; key from $PSVEVAL_MODEL_API_KEY or $OPENAI_API_KEY")
	fs.StringVar(&e.model, "model", "", "model `name` to request")
	fs.Var(&e.modelParams, "model-param", "extra sampling parameter `key=value` for the model, JSON-valued (repeatable): top_k=-1, repetition_penalty=1.05; key=null drops a default")
	fs.IntVar(&e.maxTokens, "max-tokens", 1024, "the model's max_tokens")
	fs.IntVar(&e.seed, "seed", 0, "the model's sampling seed")
	fs.StringVar(&e.system, "system-prompt", "", "system prompt for the model (default: none)")
	fs.StringVar(&e.suffix, "question-suffix", "", `text appended to each question after a newline (e.g. "Please answer the question concisely.")`)
	fs.Float64Var(&e.modelRPS, "model-rps", 0, "limit model requests per `second`, retries included (0: no limit)")
	e.concurrency = 64
	fs.Var(cmdline.Conc{N: &e.concurrency, Auto: &e.concAuto}, "concurrency", "model requests in flight (`N`), or auto: an adaptive limit that finds the endpoint's knee (up to --max-concurrency)")
}

func (e *endpointFlags) registerJudge(fs *flag.FlagSet) {
	fs.Var(&e.judgeURLs, "judge-url", "judge endpoint `URL` (repeatable, paired with --judge-model); key from $PSVEVAL_JUDGE_API_KEY or $DEEPSEEK_API_KEY")
	fs.Var(&e.judgeModels, "judge-model", "judge model `name` (repeatable: several judges vote per criterion)")
	fs.Var(&e.judgeParams, "judge-param", `extra parameter key=value for the judges, JSON-valued (repeatable), e.g. thinking={"type":"disabled"} for DeepSeek`)
	fs.StringVar(&e.judgeFormat, "judge-format", judges.FormatAuto, "reply format: auto (json_schema, falling back to json_object, then none, when the endpoint refuses it), json_schema (vLLM, SGLang, llama.cpp), json_object (DeepSeek) or none")
	fs.StringVar(&e.judgeMode, "judge-mode", judges.ModeJoint, "joint (one call per item) or per-criterion (one call per criterion)")
	fs.StringVar(&e.criterionOrder, "criterion-order", judges.OrderFixed, "joint mode: show each item's criteria in the rubric's order (fixed) or in a random order per item (shuffle, seeded by --criterion-seed), so a judge's position bias averages out; recorded in each judgment and the manifest")
	fs.Uint64Var(&e.criterionSeed, "criterion-seed", 1, "seed of --criterion-order shuffle: the same seed shows every item's criteria in the same order again")
	fs.StringVar(&e.judgePrompt, "judge-prompt", "", "judge prompt: a built-in name (joint-v1, per-criterion-v1) or a .tmpl `file`")
	fs.IntVar(&e.judgeRepairs, "judge-repairs", judges.DefaultRepairs, "repair requests for an unusable verdict before its criteria are unscorable")
	fs.IntVar(&e.judgeMaxTokens, "judge-max-tokens", 2048, "the judge's max_tokens (a cut-off reply is retried once with twice as many)")
	fs.Float64Var(&e.judgeRPS, "judge-rps", 0, "limit judge requests per `second`, retries included (0: no limit)")
	e.judgeConc = 32
	fs.Var(cmdline.Conc{N: &e.judgeConc, Auto: &e.judgeAuto}, "judge-concurrency", "judge requests in flight (`N`), or auto (see --concurrency)")
	fs.StringVar(&e.score, "score", string(rubric.DefaultRule), "item score: points (HealthBench: met points over positive points), all (every criterion) or mean")
}

func (e *endpointFlags) registerCalls(fs *flag.FlagSet) {
	fs.IntVar(&e.maxAttempts, "max-attempts", llm.DefaultMaxAttempts, "attempts per request, for 408, 429, 5xx, network errors, timeouts and blank replies")
	fs.DurationVar(&e.callTimeout, "call-timeout", llm.DefaultCallTimeout, "timeout of each attempt")
	fs.IntVar(&e.maxConc, "max-concurrency", 512, "the most requests in flight an auto concurrency limit may reach")
	fs.IntVar(&e.breaker, "breaker", llm.DefaultBreaker, "stop the run when this many calls in a row (each retried) fail with the same error and none succeeds (0: never)")
	fs.BoolVar(&e.preflight, "preflight", true, "refuse a model an endpoint does not list at GET /models (exit 2); false for a gateway that routes names it does not list. Every endpoint is checked before the first item whatever this says: unreachable, a refused key or an HTML page stops the run, even when every judgment would come from the cache")
	fs.Int64Var(&e.maxRespBytes, "max-response-bytes", llm.DefaultMaxBodyBytes, "longer responses are cut off and recorded as an item error")
}

func modelKey() string {
	if k := os.Getenv("PSVEVAL_MODEL_API_KEY"); k != "" {
		return k
	}
	return os.Getenv("OPENAI_API_KEY")
}

func judgeKey() string {
	if k := os.Getenv("PSVEVAL_JUDGE_API_KEY"); k != "" {
		return k
	}
	return os.Getenv("DEEPSEEK_API_KEY")
}

func (e *endpointFlags) modelParamsMap() map[string]any {
	return e.modelParams.Apply(pipeline.GreedyParams(e.maxTokens, e.seed))
}

func (e *endpointFlags) judgeParamsMap() map[string]any {
	return e.judgeParams.Apply(pipeline.JudgeParams(e.judgeMaxTokens))
}

// adaptiveLimits sets up --concurrency auto and --judge-concurrency auto:
// an AIMD limit per endpoint (one for all judges: one budget), which the
// clients feed and the pipeline obeys, with the fixed concurrency raised
// to --max-concurrency, the most the limit may reach. Call it once, after
// the flags are checked and before any client is built.
func (e *endpointFlags) adaptiveLimits() {
	if e.concAuto && e.modelAIMD == nil {
		e.concurrency = e.maxConc
		e.modelAIMD = llm.NewAIMD(16, e.maxConc)
	}
	if e.judgeAuto && e.judgeAIMD == nil {
		e.judgeConc = e.maxConc
		e.judgeAIMD = llm.NewAIMD(16, e.maxConc)
	}
}

// clientConfig is the llm.Config of one endpoint: "model" or "judge".
func (e *endpointFlags) clientConfig(name, url, key string, params map[string]any, rps float64, logger *slog.Logger, notify func(string)) llm.Config {
	var observe func(int, time.Duration, error)
	switch {
	case name == "model" && e.modelAIMD != nil:
		observe = e.modelAIMD.Observe
	case name == "judge" && e.judgeAIMD != nil:
		observe = e.judgeAIMD.Observe
	}
	breaker := e.breaker
	if breaker == 0 {
		breaker = -1 // llm.Config reads 0 as the default
	}
	return llm.Config{
		Name: name, BaseURL: url, APIKey: key, Params: params, MaxAttempts: e.maxAttempts,
		CallTimeout: e.callTimeout, MaxBodyBytes: e.maxRespBytes, RPS: rps, RetryBlank: true, Logger: logger,
		IdleConns: max(e.concurrency, e.judgeConc), Breaker: breaker, Notify: notify, Observe: observe,
	}
}

// validateCalls checks the call flags against their documented ranges.
func (e *endpointFlags) validateCalls() error {
	switch {
	case e.maxAttempts < 1:
		return cmdline.Usagef("--max-attempts %d: want at least 1", e.maxAttempts)
	case e.callTimeout <= 0:
		return cmdline.Usagef("--call-timeout %s: want a positive duration such as 120s", e.callTimeout)
	case e.maxRespBytes < 1:
		return cmdline.Usagef("--max-response-bytes %d: want at least 1", e.maxRespBytes)
	case e.breaker < 0:
		return cmdline.Usagef("--breaker %d: want 0 (never) or more calls", e.breaker)
	}
	return nil
}

// validateJudge checks the judge flags against their ranges and sets.
func (e *endpointFlags) validateJudge() error {
	for _, u := range e.judgeURLs {
		if err := llm.CheckURL(u); err != nil {
			return cmdline.Usagef("--judge-url: %v", err)
		}
	}
	switch {
	case !slices.Contains(judges.Formats, e.judgeFormat):
		return cmdline.Usagef("--judge-format %q: want %s", e.judgeFormat, strings.Join(judges.Formats, ", "))
	case !slices.Contains([]string{judges.ModeJoint, judges.ModePerCriterion}, e.judgeMode):
		return cmdline.Usagef("--judge-mode %q: want joint or per-criterion", e.judgeMode)
	case !slices.Contains(judges.Orders, e.criterionOrder):
		return cmdline.Usagef("--criterion-order %q: want fixed or shuffle", e.criterionOrder)
	case e.criterionOrder == judges.OrderShuffle && e.judgeMode != judges.ModeJoint:
		return cmdline.Usagef("--criterion-order shuffle needs --judge-mode joint: per-criterion mode asks each criterion alone")
	case e.judgeRepairs < 0:
		return cmdline.Usagef("--judge-repairs %d: want 0 or more", e.judgeRepairs)
	case e.judgeMaxTokens < 1:
		return cmdline.Usagef("--judge-max-tokens %d: want at least 1", e.judgeMaxTokens)
	case e.judgeConc < 1 && !e.judgeAuto:
		return cmdline.Usagef("--judge-concurrency %d: want at least 1 request in flight", e.judgeConc)
	case e.maxConc < 1:
		return cmdline.Usagef("--max-concurrency %d: want at least 1", e.maxConc)
	case !(e.judgeRPS >= 0) || math.IsInf(e.judgeRPS, 0):
		return cmdline.Usagef("--judge-rps %g: want 0 (no limit) or more requests per second", e.judgeRPS)
	}
	if _, err := rubric.ParseRule(e.score); err != nil {
		return cmdline.Usagef("--score %q: want points, all or mean", e.score)
	}
	return e.validateCalls()
}

// modelInfo validates the model flags and describes the model.
func (e *endpointFlags) modelInfo() (rundir.EndpointInfo, error) {
	if len(e.modelURLs) > 0 {
		e.modelURL = e.modelURLs[0]
	}
	if e.modelURL == "" || e.model == "" {
		return rundir.EndpointInfo{}, cmdline.Usagef("give the model endpoint: --model-url URL --model NAME")
	}
	var replicas []string
	for _, u := range e.modelURLs {
		if err := llm.CheckURL(u); err != nil {
			return rundir.EndpointInfo{}, cmdline.Usagef("--model-url: %v", err)
		}
		replicas = append(replicas, llm.RedactURL(u))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(e.modelURLs)))) != len(e.modelURLs) {
		return rundir.EndpointInfo{}, cmdline.Usagef("--model-url: the same URL is given twice")
	}
	switch {
	case e.maxTokens < 1:
		return rundir.EndpointInfo{}, cmdline.Usagef("--max-tokens %d: want at least 1", e.maxTokens)
	case e.seed < 0:
		return rundir.EndpointInfo{}, cmdline.Usagef("--seed %d: want 0 or more", e.seed)
	case e.concurrency < 1 && !e.concAuto:
		return rundir.EndpointInfo{}, cmdline.Usagef("--concurrency %d: want at least 1 request in flight", e.concurrency)
	case !(e.modelRPS >= 0) || math.IsInf(e.modelRPS, 0):
		return rundir.EndpointInfo{}, cmdline.Usagef("--model-rps %g: want 0 (no limit) or more requests per second", e.modelRPS)
	}
	return rundir.EndpointInfo{
		URL: llm.RedactURL(e.modelURL), Replicas: replicas[1:], Model: e.model, Params: e.modelParamsMap(),
		SystemPrompt: e.system, QuestionSuffix: e.suffix,
	}, nil
}

// newModel builds the model client.
func (e *endpointFlags) newModel(logger *slog.Logger, notify func(string)) (*pipeline.LLMModel, *llm.Client) {
	cfg := e.clientConfig("model", e.modelURL, modelKey(), e.modelParamsMap(), e.modelRPS, logger, notify)
	cfg.Replicas = e.modelURLs[1:]
	c := llm.New(cfg)
	return &pipeline.LLMModel{Client: c, Model: e.model, System: e.system, Suffix: e.suffix}, c
}

// newJudges builds the judges and their manifest entries.
func (e *endpointFlags) newJudges(logger *slog.Logger, notify func(string)) (*judges.Panel, error) {
	if err := e.validateJudge(); err != nil {
		return nil, err
	}
	var prompt *rubric.Prompt
	if e.judgePrompt != "" {
		p, err := rubric.LoadPrompt(e.judgePrompt)
		if err != nil {
			return nil, cmdline.Usage(err)
		}
		prompt = p
	}
	params := e.judgeParamsMap()
	repairs := e.judgeRepairs
	if repairs == 0 {
		repairs = -1 // judges.Config reads 0 as the default
	}
	base := judges.Config{Params: params, Prompt: prompt, Mode: e.judgeMode, Format: e.judgeFormat, Repairs: repairs, MaxTokens: e.judgeMaxTokens,
		Order: e.criterionOrder, OrderSeed: e.criterionSeed}
	client := func(url string) *llm.Client {
		return llm.New(e.clientConfig("judge", url, judgeKey(), params, e.judgeRPS, logger, notify))
	}
	p, err := judges.NewPanel(base, e.judgeModels, e.judgeURLs, client, func(model, from, to string, refusal error) {
		notify(fmt.Sprintf("judge %s refused response_format %s (%v); using %s from now on (--judge-format auto; the manifest records it)", model, from, refusal, to))
	})
	if err != nil {
		return nil, cmdline.Usage(err)
	}
	return p, nil
}
