package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/llmtest"
)

// fakeFlags configure a fake server.
type fakeFlags struct {
	addr, data, dist, retryAfter, apiKey, served string
	dialect                                      string
	modelLat, judgeLat, slowDelay                time.Duration
	seed                                         uint64
	correct, judgeFlip, firstBias                float64
	driftAfter                                   int64
	capacity, maxInflight                        int
	model, judge                                 faultFlags
}

type faultFlags struct{ rate429, err500, err503, reset, slow, blank, malformed, think float64 }

func (f *faultFlags) register(fs *flag.FlagSet, kind string) {
	fs.Float64Var(&f.rate429, kind+"-429", 0, "share of "+kind+" requests answered 429 with Retry-After")
	fs.Float64Var(&f.err500, kind+"-500", 0, "share of "+kind+" requests answered 500")
	fs.Float64Var(&f.err503, kind+"-503", 0, "share of "+kind+" requests answered 503")
	fs.Float64Var(&f.reset, kind+"-reset", 0, "share of "+kind+" requests whose connection is reset")
	fs.Float64Var(&f.slow, kind+"-slow", 0, "share of "+kind+" requests answered after --slow-delay")
	fs.Float64Var(&f.blank, kind+"-blank", 0, "share of "+kind+" replies with blank content")
	if kind == "judge" {
		fs.Float64Var(&f.malformed, "judge-malformed", 0, "share of judge replies with cut-off JSON")
		fs.Float64Var(&f.think, "judge-think", 0, "share of judge replies with a <think> block before the JSON")
	}
}

func (f faultFlags) faults(retryAfter string, slow time.Duration) llmtest.Faults {
	return llmtest.Faults{RateLimit: f.rate429, Error500: f.err500, Unavailable: f.err503, Reset: f.reset, Slow: f.slow,
		Blank: f.blank, Malformed: f.malformed, Think: f.think, RetryAfter: retryAfter, SlowDelay: slow}
}

func (f *fakeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8099", "listen `address`")
	fs.StringVar(&f.data, "data", "", "dataset `file` whose references the fake model may answer with")
	fs.DurationVar(&f.modelLat, "model-latency", 0, "mean model latency")
	fs.DurationVar(&f.judgeLat, "judge-latency", 0, "mean judge latency")
	fs.StringVar(&f.dist, "latency-dist", "fixed", "latency distribution: fixed, uniform or exp")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of answers, verdicts and faults")
	fs.Float64Var(&f.correct, "correct-rate", 0.6, "share of items the fake model answers right")
	fs.StringVar(&f.retryAfter, "retry-after", "1", "Retry-After header value sent with 429")
	fs.DurationVar(&f.slowDelay, "slow-delay", 3*time.Second, "how late slow replies are")
	fs.StringVar(&f.apiKey, "api-key", "", "require this bearer token (401 otherwise)")
	fs.StringVar(&f.served, "served-model", "", "model id to report in model responses (default: the one requested)")
	f.model.register(fs, "model")
	f.judge.register(fs, "judge")
	fs.IntVar(&f.capacity, "capacity", 0, "requests of a kind served at full speed; above, latency grows with the requests in flight (0: no limit)")
	fs.IntVar(&f.maxInflight, "max-inflight", 0, "requests of a kind in flight beyond which the server answers 429 with Retry-After: 1 (0: no limit)")
	fs.Float64Var(&f.judgeFlip, "judge-flip", 0, "chance that the judge flips each criterion's verdict, afresh on every request (a judge with known noise)")
	fs.StringVar(&f.dialect, "usage-dialect", "", "how usage reports cached prompt tokens: deepseek (prompt_cache_hit_tokens) or openai (prompt_tokens_details.cached_tokens); default: the judge as DeepSeek, the model with none")
	fs.Float64Var(&f.firstBias, "judge-first-bias", 0, "chance that the judge marks met a criterion it would not when it is shown first (a judge with a position bias)")
	fs.Int64Var(&f.driftAfter, "judge-drift-after", 0, "report another system_fingerprint after this many judge requests (0: never)")
}

func (f *fakeFlags) config() (llmtest.Config, error) {
	cfg := llmtest.Config{
		Seed: f.seed, CorrectRate: f.correct, APIKey: f.apiKey, ServedModel: f.served,
		ModelLatency: llmtest.Latency{Mean: f.modelLat, Dist: f.dist},
		JudgeLatency: llmtest.Latency{Mean: f.judgeLat, Dist: f.dist},
		ModelFaults:  f.model.faults(f.retryAfter, f.slowDelay),
		JudgeFaults:  f.judge.faults(f.retryAfter, f.slowDelay),
		JudgeFlip:    f.judgeFlip, FirstBias: f.firstBias, Dialect: f.dialect, DriftAfter: f.driftAfter, Capacity: f.capacity, MaxInflight: f.maxInflight,
	}
	if f.data != "" {
		refs, err := llmtest.References(f.data)
		if err != nil {
			return cfg, err
		}
		cfg.References = refs
	}
	return cfg, nil
}

func fakeServerCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cmdline.NewFlagSet("fake-server", "[flags]", stderr)
	var ff fakeFlags
	ff.register(fs)
	if err := cmdline.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := ff.config()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", ff.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fake OpenAI-compatible server on http://%s/v1 (judge model %q; any other model name is the model under test)\n", ln.Addr(), llmtest.DefaultJudge)
	if f, ok := stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
	return llmtest.Serve(ctx, ln, llmtest.NewHandler(cfg))
}
