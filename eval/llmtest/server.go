package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psveval/psveval/eval/jsonscan"
	openai "github.com/sashabaranov/go-openai"
)

// Default model names. A request for JudgeModel gets the judge; any other
// model name gets the model under test.
const (
	DefaultModel = "fake-vlm"
	DefaultJudge = "fake-judge"
)

// Catalogue is what the server lists by default: the model names the
// tests, the demo and the benchmarks ask for, and the judges'.
var Catalogue = []string{DefaultModel, "lingshu-7b", "demo-vlm", "bench-vlm", DefaultJudge, DefaultJudge + "-b", DefaultJudge + "-c"}

// Config configures a server. The zero value answers at once, without
// faults, with 60% of answers correct when references are known.
type Config struct {
	// References maps a question's text to its reference answer, so the
	// model can answer some items right. Without it, answers are generic.
	References map[string]string
	// CorrectRate is the share of items answered right (default 0.6).
	CorrectRate float64
	// Seed varies which items are answered right and the judge's verdicts.
	Seed uint64
	// ModelLatency and JudgeLatency are the response times.
	ModelLatency, JudgeLatency Latency
	// ModelFaults and JudgeFaults are the injected faults.
	ModelFaults, JudgeFaults Faults
	// JudgeModel names the judge (default DefaultJudge); ServedModel, when
	// set, is reported as the model in every model response.
	JudgeModel, ServedModel string
	// JudgeServed, when set, is reported as the model in every judge
	// response: an alias that the provider serves with another model.
	JudgeServed string
	// APIKey, when set, must be the bearer token; others get 401, on
	// every route under /v1 as vLLM does, or, with PublicModels, on all
	// but GET /v1/models, as llama-server does.
	APIKey       string
	PublicModels bool
	// Echo makes replies quote the request's headers and body, as some
	// proxies do in errors, for leak tests.
	Echo bool
	// FailAfter makes every request after the first FailAfter of kind
	// FailKind ("model" or "judge") fail with FailStatus.
	FailAfter  int64
	FailKind   string
	FailStatus int
	// Capacity, when positive, is how many requests of a kind the server
	// serves at full speed: above it, latency grows in proportion to the
	// requests in flight (a queue). MaxInflight, when positive, answers
	// requests beyond it with 429 and Retry-After: 1, as an account's
	// concurrency limit does.
	Capacity, MaxInflight int
	// JudgeFlip is the chance that the judge flips each criterion's
	// verdict, drawn afresh on every request: a judge with known noise.
	// The draw is a hash of the judgment and how many times it was asked,
	// so a test sees the same flips however its requests interleave.
	JudgeFlip float64
	// FirstBias is the chance that the judge marks met a criterion it
	// would mark unmet when that criterion is shown first: a position
	// bias, which shuffling the criteria's order spreads over them all.
	FirstBias float64
	// NoVision answers every model request with an image as llama-server
	// without --mmproj does: HTTP 500 "image input is not supported".
	NoVision bool
	// Dialect is how usage reports cached prompt tokens: "" (the judge
	// as DeepSeek does, prompt_cache_hit_tokens and
	// prompt_cache_miss_tokens, and the model without any cache field),
	// "deepseek" (both so) or "openai" (both in
	// prompt_tokens_details.cached_tokens, as OpenAI, vLLM and
	// llama-server do). The judge's system prompt counts as cached; the
	// model's first 8 tokens do, where its dialect reports any.
	Dialect string
	// DriftAfter, when positive, makes the judge report another
	// system_fingerprint after its first DriftAfter requests: drift.
	DriftAfter int64
	// Models are the ids GET /models lists (default: Catalogue and
	// JudgeModel). Chat requests are answered whatever model they name,
	// as llama.cpp does, so a preflight check is what catches a wrong
	// name.
	Models []string
	// Hook, when it returns true, has handled the request itself.
	Hook func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest, kind string) bool
}

// A Record is one request the server saw.
type Record struct {
	Kind     string // "model" or "judge"
	Question string // the item's question, as found in the request
	Session  int64  // the value of Server.Session when the request came
	Status   int    // the status sent, or 0 for a reset
	Body     []byte // the raw request body
}

// A Handler serves the fake API. Use [NewHandler], or [New] in tests.
// It is safe for concurrent use.
type Handler struct {
	cfg      Config
	rng      atomic.Uint64
	counts   [2]atomic.Int64 // model, judge
	inflight [2]atomic.Int64
	// reported totals the usage sent in 200 replies: prompt,
	// completion, cached prompt tokens, by kind.
	reported [2][3]atomic.Int64
	mu       sync.Mutex
	records  []Record
	// Session tags the records of requests that come after it is set, so
	// a test can tell the requests of one process run from another's.
	Session atomic.Int64
	// KeepBodies keeps request bodies in records (off by default).
	KeepBodies bool
	// asked counts the requests for each judgment (by judge, question,
	// reference and answer), so JudgeFlip's coin for the n-th asking is
	// the same whatever order concurrent requests come in.
	asked sync.Map
}

// NewHandler returns a handler for cfg.
func NewHandler(cfg Config) *Handler {
	if cfg.CorrectRate == 0 {
		cfg.CorrectRate = 0.6
	}
	if cfg.JudgeModel == "" {
		cfg.JudgeModel = DefaultJudge
	}
	h := &Handler{cfg: cfg}
	h.rng.Store(cfg.Seed*0x9e3779b97f4a7c15 + 1)
	return h
}

// A Server is a Handler served over HTTP on a loopback port.
type Server struct {
	*Handler
	// URL is the API root to give clients: http://127.0.0.1:PORT/v1.
	URL string
	hs  *http.Server
	ln  net.Listener
}

// Start serves a Handler for cfg on a free loopback port until Close.
func Start(cfg Config) (*Server, error) { return StartAt("127.0.0.1:0", NewHandler(cfg)) }

// StartAt serves h at addr until Close; a test restarts a server at the
// address of one it closed.
func StartAt(addr string, h *Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Handler: h, URL: "http://" + ln.Addr().String() + "/v1", hs: &http.Server{Handler: h}, ln: ln}
	go s.hs.Serve(ln)
	return s, nil
}

// Close stops the server and closes its connections.
func (s *Server) Close() error { return s.hs.Close() }

// TB is the part of testing.TB that New uses; the package does not import
// testing, so that the command linking it ships none of it.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// New starts a server for a test; it is closed when the test ends.
func New(t TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Requests returns how many chat requests of kind ("model" or "judge")
// arrived, faulty ones included.
func (h *Handler) Requests(kind string) int64 {
	return h.counts[kindIndex(kind)].Load()
}

// Records returns a copy of every chat request seen so far.
func (h *Handler) Records() []Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Record(nil), h.records...)
}

func kindIndex(kind string) int {
	if kind == "judge" {
		return 1
	}
	return 0
}

// rand returns a generator for one request, seeded from a shared counter
// so that concurrent requests never share state.
func (h *Handler) rand() *rand.Rand {
	s := h.rng.Add(0x9e3779b97f4a7c15)
	return rand.New(rand.NewPCG(s, s^0xda3e39cb94b95bdb))
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// As vLLM and llama-server do: the API lives under /v1, and a key,
	// when set, guards every route of it, the model list included.
	public := h.cfg.PublicModels && r.URL.Path == "/v1/models"
	if strings.HasPrefix(r.URL.Path, "/v1/") && !public && h.cfg.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+h.cfg.APIKey {
		writeError(w, http.StatusUnauthorized, "invalid API key")
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		ids := h.cfg.Models
		if ids == nil {
			ids = append(slices.Clone(Catalogue), h.cfg.JudgeModel)
			if h.cfg.ServedModel != "" {
				ids = append(ids, h.cfg.ServedModel)
			}
		}
		ids = uniq(ids)
		var data []map[string]any
		for _, id := range ids {
			data = append(data, map[string]any{"id": id, "object": "model", "owned_by": "psveval-fake"})
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	case r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
		h.chat(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/stats":
		writeJSON(w, http.StatusOK, map[string]int64{"model": h.Requests("model"), "judge": h.Requests("judge")})
	default:
		msg := "no route for " + r.Method + " " + r.URL.Path
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			msg += ": the API root is /v1 (give the URL as http://HOST:PORT/v1)"
		}
		writeError(w, http.StatusNotFound, msg)
	}
}

// uniq drops repeated ids, keeping the first of each.
func uniq(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (h *Handler) served(model string) string {
	if h.cfg.ServedModel != "" {
		return h.cfg.ServedModel
	}
	return model
}

// decodeRequest decodes a chat completion request. The handler reads only
// the model and the messages; a Hook may read anything, so with one (full)
// the whole request is decoded. Decoding a judge's response_format with
// go-openai's types cost the fake server a tenth of its CPU.
func decodeRequest(body []byte, req *openai.ChatCompletionRequest, full bool) error {
	if full {
		return json.Unmarshal(body, req)
	}
	var lite struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &lite); err != nil {
		return err
	}
	req.Model = lite.Model
	for _, m := range lite.Messages {
		msg := openai.ChatCompletionMessage{Role: m.Role}
		var err error
		switch c := bytes.TrimSpace(m.Content); {
		case len(c) > 0 && c[0] == '[':
			err = json.Unmarshal(c, &msg.MultiContent)
		case len(c) > 0:
			msg.Content, err = jsonscan.String(c)
		}
		if err != nil {
			return fmt.Errorf("message content: %w", err)
		}
		req.Messages = append(req.Messages, msg)
	}
	return nil
}

// readBody reads a request's body into one buffer of its announced
// length where it has one: growing a buffer for a 100 KB body of images,
// as io.ReadAll does, cost the fake server a tenth of its CPU.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= 64<<20 {
		b := make([]byte, n)
		_, err := io.ReadFull(r.Body, b)
		return b, err
	}
	return io.ReadAll(r.Body)
}

// shrinkImages cuts every image data URI in a request body to its first
// 64 bytes before the body is decoded: the fake server counts images but
// never looks at their pixels, and go-openai's decoding of a message
// checks a 100 KB string several times over, which made the fake server,
// not the client, the bound of the benchmark with images. Only a quoted
// "url":"data:..." value is cut; the body is otherwise left alone.
func shrinkImages(body []byte) []byte {
	marker := []byte(`"url":"data:`)
	if !bytes.Contains(body, marker) {
		return body
	}
	out := make([]byte, 0, 4096)
	rest := body
	for {
		i := bytes.Index(rest, marker)
		if i < 0 {
			return append(out, rest...)
		}
		start := i + len(marker)
		end := start
		for { // the closing quote: one not escaped by a backslash
			j := bytes.IndexByte(rest[end:], '"')
			if j < 0 {
				return body // malformed: let the decoder say so
			}
			end += j
			k := end - 1
			for k >= start && rest[k] == '\\' {
				k--
			}
			if (end-1-k)%2 == 0 {
				break
			}
			end++
		}
		keep := min(end, start+64)
		if bytes.IndexByte(rest[start:end], '\\') >= 0 {
			keep = end // an escape could be cut in two: keep it whole
		}
		out = append(out, rest[:keep]...)
		rest = rest[end:]
	}
}

func (h *Handler) chat(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		return
	}
	var req openai.ChatCompletionRequest
	if err := decodeRequest(shrinkImages(body), &req, h.cfg.Hook != nil); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	kind := "model"
	if strings.HasPrefix(req.Model, h.cfg.JudgeModel) {
		kind = "judge" // fake-judge, or another judge such as fake-judge-b
	}
	n := h.counts[kindIndex(kind)].Add(1)
	rec := Record{Kind: kind, Session: h.Session.Load()}
	if h.KeepBodies {
		rec.Body = body
	}
	defer func() {
		h.mu.Lock()
		h.records = append(h.records, rec)
		h.mu.Unlock()
	}()
	if kind == "model" {
		rec.Question = lastText(req.Messages)
	} else {
		rec.Question = section(firstUser(req.Messages), "question")
	}
	if h.cfg.Hook != nil && h.cfg.Hook(w, r, &req, kind) {
		rec.Status = -1
		return
	}
	if h.cfg.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+h.cfg.APIKey {
		rec.Status = http.StatusUnauthorized
		writeError(w, rec.Status, "invalid API key"+h.echo(r, body))
		return
	}
	if h.cfg.FailAfter > 0 && kind == h.cfg.FailKind && n > h.cfg.FailAfter {
		rec.Status = h.cfg.FailStatus
		writeError(w, rec.Status, "injected failure"+h.echo(r, body))
		return
	}
	rng := h.rand()
	faults, lat := h.cfg.ModelFaults, h.cfg.ModelLatency
	if kind == "judge" {
		faults, lat = h.cfg.JudgeFaults, h.cfg.JudgeLatency
	}
	in := h.inflight[kindIndex(kind)].Add(1)
	defer h.inflight[kindIndex(kind)].Add(-1)
	if m := h.cfg.MaxInflight; m > 0 && in > int64(m) {
		w.Header().Set("Retry-After", "1")
		rec.Status = http.StatusTooManyRequests
		writeError(w, rec.Status, "rate limit reached: too many concurrent requests")
		return
	}
	d := lat.draw(rng)
	if c := h.cfg.Capacity; c > 0 && in > int64(c) {
		d = time.Duration(float64(d) * float64(in) / float64(c))
	}
	if !pause(r, d) {
		return
	}
	switch u := rng.Float64(); {
	case u < faults.RateLimit:
		ra := faults.RetryAfter
		if ra == "" {
			ra = "1"
		}
		w.Header().Set("Retry-After", ra)
		rec.Status = http.StatusTooManyRequests
		writeError(w, rec.Status, "rate limit reached: too many concurrent requests")
		return
	case u < faults.RateLimit+faults.Error500:
		rec.Status = http.StatusInternalServerError
		writeError(w, rec.Status, "internal server error")
		return
	case u < faults.RateLimit+faults.Error500+faults.Unavailable:
		rec.Status = http.StatusServiceUnavailable
		writeError(w, rec.Status, "service unavailable")
		return
	case u < faults.RateLimit+faults.Error500+faults.Unavailable+faults.Reset:
		reset(w)
		return
	case u < faults.RateLimit+faults.Error500+faults.Unavailable+faults.Reset+faults.Slow:
		d := faults.SlowDelay
		if d == 0 {
			d = 3 * time.Second
		}
		if !pause(r, d) {
			return
		}
	}
	rec.Status = http.StatusOK
	if kind == "model" {
		h.answer(w, r, body, &req, rng, faults)
	} else {
		h.judge(w, r, body, &req, rng, faults)
	}
}

// lastText returns the text of the last user message (for a multi-part
// message, its text parts joined).
func lastText(msgs []openai.ChatCompletionMessage) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == openai.ChatMessageRoleUser {
			return messageText(msgs[i])
		}
	}
	return ""
}

func firstUser(msgs []openai.ChatCompletionMessage) string {
	for _, m := range msgs {
		if m.Role == openai.ChatMessageRoleUser {
			return messageText(m)
		}
	}
	return ""
}

func messageText(m openai.ChatCompletionMessage) string {
	if len(m.MultiContent) == 0 {
		return m.Content
	}
	var parts []string
	for _, p := range m.MultiContent {
		if p.Type == openai.ChatMessagePartTypeText {
			parts = append(parts, p.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// section returns the text between <tag> and </tag>, trimmed.
func section(s, tag string) string {
	open, close := "<"+tag+">", "</"+tag+">"
	_, after, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	rest := after
	j := strings.LastIndex(rest, close)
	if j < 0 {
		return ""
	}
	return strings.TrimSpace(rest[:j])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": http.StatusText(status), "code": status}})
}

// Reported returns the usage this server reported in its 200 replies of
// kind ("model" or "judge"), blank and malformed ones included: what a
// provider would bill.
func (h *Handler) Reported(kind string) (prompt, completion, cached int64) {
	r := &h.reported[kindIndex(kind)]
	return r[0].Load(), r[1].Load(), r[2].Load()
}

// usage is the usage block of a 200 reply in the configured dialect,
// counted into Reported.
func (h *Handler) usage(kind string, prompt, completion, cached int) map[string]any {
	u := map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
	dialect := h.cfg.Dialect
	if dialect == "" && kind == "judge" {
		dialect = "deepseek"
	}
	switch dialect {
	case "deepseek":
		u["prompt_cache_hit_tokens"], u["prompt_cache_miss_tokens"] = cached, prompt-cached
	case "openai":
		u["prompt_tokens_details"] = map[string]any{"cached_tokens": cached}
	default:
		cached = 0
	}
	r := &h.reported[kindIndex(kind)]
	r[0].Add(int64(prompt))
	r[1].Add(int64(completion))
	r[2].Add(int64(cached))
	return u
}
