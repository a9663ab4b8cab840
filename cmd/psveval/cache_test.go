package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/psveval/psveval/eval/llmtest"
)

// TestCacheKeyedByTheServingJudge: the judgment cache keys by the judge's
// endpoint too. Re-judging a run against another server under the same
// model name asks that server (a noisy one, so agree's κ falls below 1)
// instead of answering from the cache; a judge URL that serves HTML fails
// the run at once, even when every judgment is cached; a judge that
// answers every request with an HTML error page stops the run at the
// first, with one line, instead of failing item after item.
func TestCacheKeyedByTheServingJudge(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 60)
	cache := filepath.Join(t.TempDir(), "cache")
	// The clean judge's address can be broken later: it then serves an
	// HTML 404 page for every path, as a web server at a wrong URL does.
	var broken atomic.Bool
	h := llmtest.NewHandler(llmtest.Config{References: refs})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte("<!DOCTYPE html><html><body>404 Not Found</body></html>"))
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	clean := struct {
		URL      string
		Requests func(string) int64
	}{hs.URL + "/v1", h.Requests}
	run := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), "run", "--data", data, "--out", run, "--progress", "none", "--cache", cache,
		"--model-url", clean.URL, "--model", "lingshu-7b", "--judge-url", clean.URL, "--judge-model", llmtest.DefaultJudge); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	judge := func(url, out string) (string, int) {
		_, stderr, code := cli(t, t.Context(), "judge", run, "--out", out, "--progress", "none", "--cache", cache,
			"--judge-url", url, "--judge-model", llmtest.DefaultJudge)
		return stderr, code
	}
	dir := t.TempDir()
	// The same server again: every judgment comes from the cache.
	before := clean.Requests("judge")
	if stderr, code := judge(clean.URL, filepath.Join(dir, "again")); code != 0 || clean.Requests("judge") != before {
		t.Fatalf("re-judging on the same server: exit %d, %d judge requests, want 0 and none\n%s", code, clean.Requests("judge")-before, stderr)
	}
	noisy := llmtest.New(t, llmtest.Config{References: refs, JudgeFlip: 0.3})
	other := filepath.Join(dir, "other")
	if stderr, code := judge(noisy.URL, other); code != 0 || noisy.Requests("judge") != 60 {
		t.Fatalf("re-judging on another server of the same name: exit %d, %d judge requests, want 60\n%s", code, noisy.Requests("judge"), stderr)
	}
	stdout, _, _ := cli(t, t.Context(), "agree", run, other, "--format", "json")
	if strings.Contains(stdout, `"kappa": 1,`) || !strings.Contains(stdout, `"kappa"`) {
		t.Errorf("agree against a noisy judge reads κ 1: the cache answered for it\n%s", stdout)
	}
	html := llmtest.New(t, llmtest.Config{References: refs, Hook: func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest, kind string) bool {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotImplemented)
		w.Write([]byte("<!DOCTYPE html><html><body><h1>501 Not Implemented</h1>" + strings.Repeat("<p>padding</p>", 200) + "</body></html>"))
		return true
	}})
	broken.Store(true)
	for name, url := range map[string]string{"the judge's URL now serving an HTML 404": clean.URL, "a judge answering HTML 501": html.URL} {
		stderr, code := judge(url, filepath.Join(dir, strings.ReplaceAll(name, " ", "-")))
		if code != 3 || !strings.Contains(stderr, "answered with an HTML page") || strings.Contains(stderr, "<html") {
			t.Errorf("%s, with every judgment cached: exit %d, want 3 with one line naming the HTML page\n%s", name, code, stderr)
		}
	}
	// The run stops at the first HTML page; the requests already in
	// flight (up to --judge-concurrency, 32) come back, none after.
	if n := html.Requests("judge"); n > 32 {
		t.Errorf("a judge answering HTML was asked %d times for 60 items, want the run stopped at the first page", n)
	}
}
