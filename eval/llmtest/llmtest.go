// Package llmtest is a fake OpenAI-compatible server for tests, benchmarks
// and the demo. It serves GET /v1/models and POST /v1/chat/completions with
// two personalities, told apart by the request's model name (a name that
// starts with the judge's name, "fake-judge" by default, is a judge):
//
//   - the model under test answers like vLLM (usage, finish_reason,
//     stop_reason): deterministically given the question, a seeded share of
//     answers equal the reference (when the server was told the references),
//     the rest are plausible wrong answers;
//   - the judge answers like DeepSeek (content, reasoning_content) with a
//     verdict in psveval's JSON format, deterministic given the question,
//     reference and answer it finds in the prompt.
//
// Latency follows a configurable distribution, and faults can be injected
// at configurable rates: 429 with Retry-After, 500, 503, connection resets,
// responses slower than the client's timeout, blank content, malformed
// JSON, and a <think> block before the JSON. GET /stats returns the chat
// requests counted so far, by kind.
package llmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psveval/psveval/eval/jsonscan"
	"github.com/psveval/psveval/eval/llm"
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

// Latency is a response-time distribution.
type Latency struct {
	// Mean is the mean latency.
	Mean time.Duration
	// Dist is "fixed" (the default), "uniform" (over [0, 2·Mean]) or
	// "exp" (exponential).
	Dist string
}

func (l Latency) draw(r *rand.Rand) time.Duration {
	switch l.Dist {
	case "uniform":
		return time.Duration(r.Float64() * 2 * float64(l.Mean))
	case "exp":
		return time.Duration(r.ExpFloat64() * float64(l.Mean))
	}
	return l.Mean
}

// Faults are injection rates, each a probability per request in [0, 1].
// Status faults apply before any content; content faults (Blank, Malformed,
// Think) apply to successful replies.
type Faults struct {
	RateLimit   float64 // 429 with Retry-After: RetryAfter
	Error500    float64
	Unavailable float64 // 503
	Reset       float64 // the connection is reset without a response
	Slow        float64 // the reply comes after SlowDelay
	Blank       float64 // empty content, finish_reason stop
	Malformed   float64 // the judge's JSON is cut off
	Think       float64 // a <think> block precedes the judge's JSON
	// RetryAfter is the Retry-After header value sent with 429 (default "1").
	RetryAfter string
	// SlowDelay is how late a slow reply is (default 3s).
	SlowDelay time.Duration
}

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
	// APIKey, when set, must be the bearer token; others get 401.
	APIKey string
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
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models"):
		ids := h.cfg.Models
		if ids == nil {
			ids = append(slices.Clone(Catalogue), h.cfg.JudgeModel)
			if h.cfg.ServedModel != "" {
				ids = append(ids, h.cfg.ServedModel)
			}
		}
		var data []map[string]any
		for _, id := range ids {
			data = append(data, map[string]any{"id": id, "object": "model", "owned_by": "psveval-fake"})
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		h.chat(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/stats":
		writeJSON(w, http.StatusOK, map[string]int64{"model": h.Requests("model"), "judge": h.Requests("judge")})
	default:
		writeError(w, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path)
	}
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

// pause waits d or until the client goes away, reporting whether to go on.
func pause(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-t.C:
		return true
	}
}

// reset closes the connection with an RST, without a response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

func (h *Handler) echo(r *http.Request, body []byte) string {
	if !h.cfg.Echo {
		return ""
	}
	var b strings.Builder
	b.WriteString(" (echo: ")
	for k, v := range r.Header {
		fmt.Fprintf(&b, "%s: %s; ", k, strings.Join(v, ","))
	}
	b.WriteString("body: ")
	b.WriteString(llm.Clip(string(body), 2000))
	b.WriteString(")")
	return b.String()
}

// answer replies as the model under test.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, body []byte, req *openai.ChatCompletionRequest, rng *rand.Rand, f Faults) {
	q := lastText(req.Messages)
	text := h.answerFor(q)
	if h.cfg.Echo {
		text += h.echo(r, body)
	}
	if rng.Float64() < f.Blank {
		text = ""
	}
	images := 0
	for _, m := range req.Messages {
		for _, p := range m.MultiContent {
			if p.Type == openai.ChatMessagePartTypeImageURL {
				images++
			}
		}
	}
	prompt := tokens(q) + 256*images + 8
	completion := tokens(text) + 1
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1767225600, "model": h.served(req.Model),
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": text, "reasoning_content": nil, "tool_calls": []any{}},
			"logprobs":      nil,
			"finish_reason": "stop",
			"stop_reason":   nil,
		}},
		"usage": map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
	})
}

// answerFor returns the fake model's answer to question.
func (h *Handler) answerFor(q string) string {
	ref, known := h.cfg.References[q]
	if i := strings.LastIndex(q, "\n"); !known && i > 0 {
		ref, known = h.cfg.References[q[:i]] // the question was given a suffix
	}
	u := unit(h.cfg.Seed, "correct", q)
	if known && u < h.cfg.CorrectRate {
		return ref
	}
	lower := strings.ToLower(strings.TrimSpace(ref))
	switch {
	case lower == "yes":
		return "No."
	case lower == "no":
		return "Yes."
	case !known:
		return []string{"Yes.", "No.", "The image shows no abnormality."}[int(unit(h.cfg.Seed, "generic", q)*3)]
	}
	wrong := []string{
		"The image shows no abnormality.",
		"It cannot be determined from this image.",
		"Normal tissue without pathological change.",
		"A benign cyst.",
	}
	return wrong[int(unit(h.cfg.Seed, "wrong", q)*float64(len(wrong)))]
}

var criterionLine = regexp.MustCompile(`(?m)^\{"dim":.*\}$`)

// judge replies as the judge, DeepSeek-shaped.
func (h *Handler) judge(w http.ResponseWriter, r *http.Request, body []byte, req *openai.ChatCompletionRequest, rng *rand.Rand, f Faults) {
	user := firstUser(req.Messages)
	q, ref, ans := section(user, "question"), section(user, "reference_answer"), section(user, "model_answer")
	var dims []string
	for _, line := range criterionLine.FindAllString(section(user, "criteria"), -1) {
		var c struct{ Dim string }
		if json.Unmarshal([]byte(line), &c) == nil {
			dims = append(dims, c.Dim)
		}
	}
	type verdict struct {
		Dim         string `json:"dim"`
		Met         bool   `json:"met"`
		Explanation string `json:"explanation"`
	}
	out := struct {
		Criteria []verdict `json:"criteria"`
	}{Criteria: []verdict{}}
	p := 0.2
	if Matches(ans, ref) {
		p = 0.92
	}
	// Judges other than the default one vote with their own coin, so
	// several judges can disagree.
	who := strings.TrimPrefix(req.Model, h.cfg.JudgeModel)
	nth := ""
	if h.cfg.JudgeFlip > 0 {
		c, _ := h.asked.LoadOrStore(who+"\x00"+q+"\x00"+ref+"\x00"+ans, new(atomic.Int64))
		nth = strconv.FormatInt(c.(*atomic.Int64).Add(1), 10)
	}
	for _, d := range dims {
		met := unit(h.cfg.Seed, "met"+who, q, ref, ans, d) < p
		if h.cfg.JudgeFlip > 0 && unit(h.cfg.Seed, "flip"+who, q, ref, ans, d, nth) < h.cfg.JudgeFlip {
			met = !met
		}
		why := "The answer does not satisfy this criterion."
		if met {
			why = "The answer satisfies this criterion."
		}
		out.Criteria = append(out.Criteria, verdict{d, met, why})
	}
	b, _ := json.Marshal(out)
	content := string(b)
	reasoning := ""
	switch u := rng.Float64(); {
	case u < f.Blank:
		content = ""
	case u < f.Blank+f.Malformed:
		content = content[:len(content)/2]
	case u < f.Blank+f.Malformed+f.Think:
		content = "<think>Let me check each criterion against the reference.</think>\n" + content
	}
	if h.cfg.Echo {
		content += h.echo(r, body)
	}
	prompt := tokens(req.Messages[0].Content) + tokens(user)
	completion := tokens(content) + 1
	fingerprint := "fp_fake_1"
	if h.cfg.DriftAfter > 0 && h.Requests("judge") > h.cfg.DriftAfter {
		fingerprint = "fp_fake_2"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "fake-judge-1", "object": "chat.completion", "created": 1767225600, "model": req.Model, "system_fingerprint": fingerprint,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content, "reasoning_content": reasoning},
			"finish_reason": "stop",
		}},
		"usage": map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
			"prompt_cache_hit_tokens": tokens(req.Messages[0].Content), "prompt_cache_miss_tokens": tokens(user)},
	})
}

// Matches is the fake judge's notion of a right answer: equal to the
// reference after dropping case, punctuation and surrounding space.
func Matches(answer, reference string) bool {
	norm := func(s string) string {
		return strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".!?, ")
	}
	return norm(answer) == norm(reference)
}

// unit hashes its parts to a number in [0, 1).
func unit(seed uint64, parts ...string) float64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	sum := h.Sum(nil)
	return float64(binary.LittleEndian.Uint64(sum)>>11) / (1 << 53)
}

func tokens(s string) int { return int(math.Ceil(float64(len(s)) / 4)) }

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
