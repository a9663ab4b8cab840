package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// fail500 answers a request with a 500 that asks for no wait.
func fail500(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "0")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write([]byte(`{"error":{"message":"the model cannot take images"}}`))
}

// TestCallCountsMatchTheServer: the requests, HTTP retries, repairs and
// re-asks for length in summary.json are what the server received, in
// each of the cases that used to be miscounted.
func TestCallCountsMatchTheServer(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 5)
	t.Run("retries of calls that finally failed", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.New(t, llmtest.Config{References: refs, Hook: func(w http.ResponseWriter, _ *http.Request, _ *openai.ChatCompletionRequest, kind string) bool {
			if kind == "model" {
				fail500(w)
				return true
			}
			return false
		}})
		out := filepath.Join(t.TempDir(), "run")
		_, stderr, code := cli(t, t.Context(), setArgs(data, srv.URL, out, "--breaker", "0", "--max-attempts", "6")...)
		if code != 3 {
			t.Fatalf("exit %d, want 3 (every item errored)\n%s", code, stderr)
		}
		var s stats.Summary
		readJSON(t, filepath.Join(out, "summary.json"), &s)
		c := s.Run.Calls["model"]
		if c.Requests != 5 || c.Retries != 25 || c.Failed != 5 || c.Requests+c.Retries != srv.Requests("model") || s.Run.Retries["model"] != 25 {
			t.Errorf("model calls %+v (retries %v); the server got %d requests: want 5 requests, 25 retries, 5 failed", c, s.Run.Retries, srv.Requests("model"))
		}
	})
	t.Run("per-criterion requests are not retries", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.New(t, llmtest.Config{References: refs})
		out := filepath.Join(t.TempDir(), "run")
		if _, stderr, code := cli(t, t.Context(), setArgs(data, srv.URL, out, "--judge-mode", "per-criterion")...); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var s stats.Summary
		readJSON(t, filepath.Join(out, "summary.json"), &s)
		c := s.Run.Calls["judge"]
		if c.Requests != 25 || c.Retries != 0 || c.Requests != srv.Requests("judge") || s.Run.Retries["judge"] != 0 {
			t.Errorf("judge calls %+v; the server got %d: want 25 requests (5 items × 5 criteria) and no retries", c, srv.Requests("judge"))
		}
	})
	t.Run("a re-ask for length is not a retry", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.New(t, llmtest.Config{References: refs, Hook: func(w http.ResponseWriter, _ *http.Request, req *openai.ChatCompletionRequest, kind string) bool {
			//lint:ignore SA1019 vLLM and llama-server read max_tokens, not max_completion_tokens (OpenAI o1's name), so psveval sends max_tokens on purpose
			if kind != "judge" || req.MaxTokens > 2048 {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":"x","object":"chat.completion","model":"fake-judge","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"{\"criteria\":[{\"dim\":"}}],"usage":{"prompt_tokens":10,"completion_tokens":2048}}`))
			return true
		}})
		out := filepath.Join(t.TempDir(), "run")
		if _, stderr, code := cli(t, t.Context(), setArgs(data, srv.URL, out)...); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var s stats.Summary
		readJSON(t, filepath.Join(out, "summary.json"), &s)
		c := s.Run.Calls["judge"]
		if c.Requests != 10 || c.LengthRetries != 5 || c.Retries != 0 || c.Requests != srv.Requests("judge") || s.NScored != 5 {
			t.Errorf("judge calls %+v, %d scored; the server got %d: want 10 requests, 5 re-asks for length, no retries", c, s.NScored, srv.Requests("judge"))
		}
	})
}

// TestBreaker: an endpoint that fails every call alike stops the run
// after --breaker calls, with exit 3, the error, and the work kept.
func TestBreaker(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 40)
	srv := llmtest.New(t, llmtest.Config{References: refs, Hook: func(w http.ResponseWriter, _ *http.Request, _ *openai.ChatCompletionRequest, kind string) bool {
		if kind == "model" {
			fail500(w)
			return true
		}
		return false
	}})
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), setArgs(data, srv.URL, out, "--max-attempts", "2", "--concurrency", "2")...)
	if code != 3 || !strings.Contains(stderr, "failed the same way on 8 calls in a row") || !strings.Contains(stderr, "cannot take images") || !strings.Contains(stderr, "resume") {
		t.Fatalf("exit %d, want 3 naming the repeated error and how to resume\n%s", code, stderr)
	}
	if n := srv.Requests("model"); n >= 2*40 {
		t.Errorf("the breaker did not stop the calls: %d requests", n)
	}
	if lines := readLines(t, filepath.Join(out, "answers.jsonl")); len(lines) < 7 {
		t.Errorf("%d failed answers journaled, want the 7 or more before the call that tripped the breaker", len(lines))
	}
}

// TestJudgeFormatAuto: under --judge-format auto (the default), a judge
// endpoint that refuses json_schema falls back to json_object, says so,
// and records it; a 400 that every format gets fails that item only.
func TestJudgeFormatAuto(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 6)
	var badQuestion atomic.Value
	srv := llmtest.New(t, llmtest.Config{References: refs, Hook: func(w http.ResponseWriter, _ *http.Request, req *openai.ChatCompletionRequest, kind string) bool {
		if kind != "judge" {
			return false
		}
		refuse := req.ResponseFormat != nil && req.ResponseFormat.Type == openai.ChatCompletionResponseFormatTypeJSONSchema
		if q, _ := badQuestion.Load().(string); q != "" && strings.Contains(req.Messages[len(req.Messages)-1].Content, q) {
			refuse = true
		}
		if refuse {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"message":"This response_format type is unavailable now"}}`))
		}
		return refuse
	}})
	for q := range refs {
		badQuestion.Store(q)
		break
	}
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), setArgs(data, srv.URL, out, "--max-error-rate", "0.5")...)
	if code != 0 || !strings.Contains(stderr, "refused response_format json_schema") || !strings.Contains(stderr, "using json_object") {
		t.Fatalf("exit %d, want 0 and a note on the fallback\n%s", code, stderr)
	}
	var m rundir.Manifest
	readJSON(t, filepath.Join(out, "manifest.json"), &m)
	var s stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	if m.Judges[0].Format != "auto" || m.Judges[0].FormatUsed != "json_object" || s.NScored != 5 || s.NErrors != 1 {
		t.Errorf("format %q used %q, %d scored, %d errors; want auto, json_object, 5, 1", m.Judges[0].Format, m.Judges[0].FormatUsed, s.NScored, s.NErrors)
	}
}

// TestPreflightWithFakeServer: a model the endpoint does not list is a
// usage error naming what it serves, before anything is written; an
// endpoint without the listing, or listing nothing, gets a note; a model
// that answers under another name gets a note and is recorded.
func TestPreflightWithFakeServer(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 3)
	srv := llmtest.New(t, llmtest.Config{References: refs})
	out := filepath.Join(t.TempDir(), "run")
	args := setArgs(data, srv.URL, out)
	args[slicesIndex(args, "--model")+1] = "lingshu-7b-typo"
	_, stderr, code := cli(t, t.Context(), args...)
	if code != 2 || !strings.Contains(stderr, `--model "lingshu-7b-typo"`) || !strings.Contains(stderr, "lingshu-7b,") {
		t.Errorf("a model the endpoint does not list: exit %d, want 2 listing what it serves\n%s", code, stderr)
	}
	if srv.Requests("model")+srv.Requests("judge") != 0 {
		t.Error("requests were sent before the preflight refused the run")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused run left a directory")
	}

	h := llmtest.NewHandler(llmtest.Config{References: refs, ServedModel: "served-under-another-name"})
	noList := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/models") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(noList.Close)
	out = filepath.Join(t.TempDir(), "run")
	_, stderr, code = cli(t, t.Context(), setArgs(data, noList.URL+"/v1", out)...)
	if code != 0 || !strings.Contains(stderr, "could not check the model name") || !strings.Contains(stderr, `answers as "served-under-another-name", not the requested "lingshu-7b"`) {
		t.Errorf("no model listing and another served name: exit %d, want 0 with two notes\n%s", code, stderr)
	}
	var m rundir.Manifest
	readJSON(t, filepath.Join(out, "manifest.json"), &m)
	if m.Model.Model != "lingshu-7b" || m.Model.ServedModel != "served-under-another-name" {
		t.Errorf("manifest model %q served %q", m.Model.Model, m.Model.ServedModel)
	}
}
