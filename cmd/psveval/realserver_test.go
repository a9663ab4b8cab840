package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// llamaServer is a real OpenAI-compatible server, llama.cpp's
// llama-server, serving the tiny model that .ci/tiny_gguf.py writes.
type llamaServer struct {
	t    *testing.T
	bin  string
	args []string
	url  string
	cmd  *exec.Cmd
	log  string
}

// startLlama starts llama-server on a free loopback port, with extra
// arguments, and waits until it serves. It skips the test when the
// server has not been built (.ci/run builds it with .ci/llama-server.sh).
func startLlama(t *testing.T, extra ...string) *llamaServer {
	t.Helper()
	bin, model := os.Getenv("PSVEVAL_LLAMA_SERVER"), os.Getenv("PSVEVAL_LLAMA_MODEL")
	if bin == "" || model == "" {
		t.Skip("no real server: set PSVEVAL_LLAMA_SERVER and PSVEVAL_LLAMA_MODEL (.ci/run does, after .ci/llama-server.sh builds llama-server and the tiny model)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &llamaServer{t: t, bin: bin, url: fmt.Sprintf("http://127.0.0.1:%d/v1", port), log: filepath.Join(t.TempDir(), "llama-server.log")}
	// --no-jinja: the tiny model's template is plain ChatML; llama.cpp's
	// Jinja path builds a grammar around it that it then cannot load.
	s.args = append([]string{"-m", model, "--host", "127.0.0.1", "--port", fmt.Sprint(port), "-a", "tiny-model",
		"-c", "16384", "-np", "4", "-t", "2", "--no-jinja", "--no-webui"}, extra...)
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *llamaServer) start() {
	s.t.Helper()
	f, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = f, f
	dieWithTest(s.cmd)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	f.Close()
	for range 600 {
		resp, err := http.Get(strings.TrimSuffix(s.url, "/v1") + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(s.log)
	s.t.Fatalf("llama-server did not come up in 60 s:\n%s", b)
}

// stop kills the server, as a crash would.
func (s *llamaServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// textItems writes n text-only items, plus one whose question is far
// over the server's context when long is set.
func textItems(t *testing.T, n int, long bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "items.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range n {
		enc.Encode(map[string]string{"id": fmt.Sprintf("q%02d", i), "question": fmt.Sprintf("Is finding number %d present?", i),
			"answer": []string{"yes", "no"}[i%2], "question_type": eval.QuestionTypes[i%6]})
	}
	if long {
		enc.Encode(map[string]string{"id": "too-long", "question": strings.Repeat("Describe the lesion. ", 5000), "answer": "yes", "question_type": "VP"})
	}
	w.Flush()
	f.Close()
	return path
}

func llamaArgs(s *llamaServer, data, out string, extra ...string) []string {
	return append([]string{"run", "--data", data, "--out", out, "--no-cache", "--progress", "none",
		"--model-url", s.url, "--model", "tiny-model", "--max-tokens", "16",
		"--judge-url", s.url, "--judge-model", "tiny-model"}, extra...)
}

// TestRealServer runs psveval against llama-server: both judge modes
// score items through the pinned json_schema; a prompt over the context
// fails that item only; preflight catches a wrong model name and a dead
// endpoint; a server killed mid-run and restarted lets the same command
// finish; a wrong key stops the run at once.
func TestRealServer(t *testing.T) {
	srv := startLlama(t)
	ctx := t.Context()

	t.Run("joint", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		_, stderr, code := cli(t, ctx, llamaArgs(srv, textItems(t, 4, true), out, "--max-error-rate", "0.5")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var s stats.Summary
		readJSON(t, filepath.Join(out, "summary.json"), &s)
		if s.NScored != 4 || s.NErrors != 1 || s.NUnscored != 0 {
			t.Errorf("%d scored, %d errors, %d unscored; want 4, 1 (the prompt over the context), 0\n%s", s.NScored, s.NErrors, s.NUnscored, stderr)
		}
		for _, l := range readLines(t, filepath.Join(out, "results.jsonl")) {
			var r eval.Result
			json.Unmarshal([]byte(l), &r)
			if r.ID == "too-long" && (r.ErrorKind != "http_400" || !strings.Contains(r.Error, "context")) {
				t.Errorf("the over-long prompt: %s %q, want an HTTP 400 about the context", r.ErrorKind, r.Error)
			}
		}
		var m rundir.Manifest
		readJSON(t, filepath.Join(out, "manifest.json"), &m)
		if m.Judges[0].Format != "auto" || m.Judges[0].FormatUsed != "json_schema" {
			t.Errorf("judge format %q, used %q; want auto settling on json_schema", m.Judges[0].Format, m.Judges[0].FormatUsed)
		}
		if c := s.Run.Calls["judge"]; c.Requests != 4 || c.Retries != 0 || c.Repairs != 0 {
			t.Errorf("judge calls %+v, want 4 requests, no retries, no repairs", c)
		}
	})

	t.Run("per-criterion", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		_, stderr, code := cli(t, ctx, llamaArgs(srv, textItems(t, 3, false), out, "--judge-mode", "per-criterion", "--judge-format", "json_schema")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var s stats.Summary
		readJSON(t, filepath.Join(out, "summary.json"), &s)
		if s.NScored != 3 {
			t.Errorf("%d of 3 scored\n%s", s.NScored, stderr)
		}
		if c := s.Run.Calls["judge"]; c.Requests != 15 || c.Retries != 0 {
			t.Errorf("judge calls %+v, want 15 requests (3 items × 5 criteria) and no retries", c)
		}
	})

	t.Run("preflight", func(t *testing.T) {
		data := textItems(t, 2, false)
		out := filepath.Join(t.TempDir(), "run")
		args := llamaArgs(srv, data, out)
		args[slicesIndex(args, "--model")+1] = "no-such-model"
		_, stderr, code := cli(t, ctx, args...)
		if code != 2 || !strings.Contains(stderr, `"no-such-model"`) || !strings.Contains(stderr, "tiny-model") {
			t.Errorf("a model the server does not list: exit %d, want 2 naming what it serves\n%s", code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Error("a refused run left a directory")
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		dead := fmt.Sprintf("http://%s/v1", ln.Addr())
		ln.Close()
		start := time.Now()
		_, stderr, code = cli(t, ctx, "run", "--data", data, "--out", out, "--no-cache", "--model-url", dead, "--model", "m",
			"--judge-url", srv.url, "--judge-model", "tiny-model")
		if code != 3 || !strings.Contains(stderr, "connection refused") || !strings.Contains(stderr, "unreachable") {
			t.Errorf("a dead endpoint: exit %d, want 3 saying connection refused\n%s", code, stderr)
		}
		t.Logf("a dead endpoint was reported after %s", time.Since(start).Round(time.Millisecond))
	})

	t.Run("killed and restarted", func(t *testing.T) {
		data := textItems(t, 8, false)
		out := filepath.Join(t.TempDir(), "run")
		args := llamaArgs(srv, data, out, "--concurrency", "1", "--judge-concurrency", "1", "--max-attempts", "2")
		rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		done := make(chan int, 1)
		var stderr string
		go func() {
			var code int
			_, stderr, code = cli(t, rctx, args...)
			done <- code
		}()
		// Kill the server once some judgments are recorded.
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if b, _ := os.ReadFile(filepath.Join(out, "judgments.jsonl")); strings.Count(string(b), "\n") >= 2 {
				break
			}
		}
		srv.stop()
		code := <-done
		if code == 0 {
			t.Fatalf("the run finished though the server died:\n%s", stderr)
		}
		t.Logf("the run when the server died (exit %d):\n%s", code, stderr)
		srv.start()
		_, stderr2, code := cli(t, ctx, args...)
		if code != 0 {
			t.Fatalf("resume after the restart: exit %d\nfirst run:\n%s\nresume:\n%s", code, stderr, stderr2)
		}
		var s stats.Summary
		readJSON(t, filepath.Join(out, "summary.json"), &s)
		if s.NScored != 8 {
			t.Errorf("%d of 8 scored after the resume\n%s", s.NScored, stderr2)
		}
	})

	t.Run("no projector", func(t *testing.T) {
		// Image items, and a server without --mmproj: its model list says
		// so, and the run stops before the first request.
		out := filepath.Join(t.TempDir(), "run")
		args := llamaArgs(srv, fixture, out, "--limit", "6")
		_, stderr, code := cli(t, ctx, args...)
		if code != 3 || !strings.Contains(stderr, "without vision") || !strings.Contains(stderr, "--mmproj") {
			t.Errorf("image items on a server without a projector: exit %d, want 3 naming --mmproj\n%s", code, stderr)
		}
		t.Logf("no projector:\n%s", stderr)
	})

	t.Run("wrong key", func(t *testing.T) {
		keyed := startLlama(t, "--api-key", "right-key")
		t.Setenv("PSVEVAL_MODEL_API_KEY", "wrong-key")
		t.Setenv("PSVEVAL_JUDGE_API_KEY", "wrong-key")
		out := filepath.Join(t.TempDir(), "run")
		_, stderr, code := cli(t, ctx, llamaArgs(keyed, textItems(t, 4, false), out)...)
		if code != 3 || !strings.Contains(stderr, "401") || !strings.Contains(stderr, "PSVEVAL_MODEL_API_KEY") {
			t.Errorf("a wrong key: exit %d, want 3 with the 401 and where the key comes from\n%s", code, stderr)
		}
		t.Logf("a wrong key:\n%s", stderr)
		if strings.Contains(stderr, "wrong-key") {
			t.Errorf("the key was printed:\n%s", stderr)
		}
	})
}

func slicesIndex(args []string, s string) int {
	for i, a := range args {
		if a == s {
			return i
		}
	}
	return -1
}

// usageProxy forwards to a real server and totals the usage of its 200
// replies, as a provider's bill would; in the deepseek dialect it
// rewrites each usage block as DeepSeek's API writes it
// (prompt_cache_hit_tokens and prompt_cache_miss_tokens, no
// prompt_tokens_details).
type usageProxy struct {
	url                        string
	mu                         sync.Mutex
	prompt, completion, cached int64
	requests                   int64
}

func newUsageProxy(t *testing.T, upstream, dialect string) *usageProxy {
	t.Helper()
	p := &usageProxy{}
	target := strings.TrimSuffix(upstream, "/v1")
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK && strings.HasSuffix(r.URL.Path, "/chat/completions") {
			var m map[string]any
			if json.Unmarshal(out, &m) == nil {
				if u, ok := m["usage"].(map[string]any); ok {
					pt, ct := int64(u["prompt_tokens"].(float64)), int64(u["completion_tokens"].(float64))
					var cached int64
					if d, ok := u["prompt_tokens_details"].(map[string]any); ok {
						if c, ok := d["cached_tokens"].(float64); ok {
							cached = int64(c)
						}
					}
					if dialect == "deepseek" {
						delete(u, "prompt_tokens_details")
						u["prompt_cache_hit_tokens"], u["prompt_cache_miss_tokens"] = cached, pt-cached
						out, _ = json.Marshal(m)
					}
					p.mu.Lock()
					p.prompt, p.completion, p.cached, p.requests = p.prompt+pt, p.completion+ct, p.cached+cached, p.requests+1
					p.mu.Unlock()
				}
			}
		}
		for k, v := range resp.Header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(out)
	}))
	t.Cleanup(hs.Close)
	p.url = hs.URL + "/v1"
	return p
}

func (p *usageProxy) totals() eval.Usage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return eval.Usage{Prompt: p.prompt, Completion: p.completion, Cached: p.cached}
}

// TestRealServerUsage runs psveval against llama-server behind a proxy
// that totals the usage it reports, in both dialects (llama-server's
// own prompt_tokens_details.cached_tokens, and DeepSeek's fields
// rewritten from it): summary.json's usage equals the proxy's totals
// exactly, the cost equals the bill computed from them, and the share
// of the judge's prompt tokens the server's prefix cache served is
// logged, in both judge modes.
func TestRealServerUsage(t *testing.T) {
	srv := startLlama(t)
	for _, dialect := range []string{"openai", "deepseek"} {
		for _, mode := range []string{"joint", "per-criterion"} {
			t.Run(dialect+"/"+mode, func(t *testing.T) {
				model, judge := newUsageProxy(t, srv.url, dialect), newUsageProxy(t, srv.url, dialect)
				out := filepath.Join(t.TempDir(), "run")
				args := []string{"run", "--data", textItems(t, 8, false), "--out", out, "--no-cache", "--progress", "none",
					"--model-url", model.url, "--model", "tiny-model", "--max-tokens", "16",
					"--judge-url", judge.url, "--judge-model", "tiny-model", "--judge-mode", mode, "--judge-format", "json_schema",
					"--judge-price", "input=0.28,cached=0.028,output=0.42", "--model-price", "input=0.1,output=0.2"}
				if _, stderr, code := cli(t, t.Context(), args...); code != 0 {
					t.Fatalf("exit %d\n%s", code, stderr)
				}
				var s stats.Summary
				readJSON(t, filepath.Join(out, "summary.json"), &s)
				if got, want := s.Usage.Judge, judge.totals(); got != want {
					t.Errorf("judge usage %+v, the proxy totalled %+v", got, want)
				}
				if got, want := s.Usage.Model, model.totals(); got != want {
					t.Errorf("model usage %+v, the proxy totalled %+v", got, want)
				}
				u := judge.totals()
				bill := (float64(u.Prompt-u.Cached)*0.28 + float64(u.Cached)*0.028 + float64(u.Completion)*0.42) / 1e6
				if s.Cost == nil || math.Abs(s.Cost.JudgeUSD-bill) > 1e-9 {
					t.Errorf("cost %+v, the bill from the proxy's totals is %.9f", s.Cost, bill)
				}
				t.Logf("%s, %s: judge prompt tokens %d, %d cached (%.1f%%), %d requests", dialect, mode, u.Prompt, u.Cached, 100*float64(u.Cached)/float64(max(u.Prompt, 1)), judge.requests)
			})
		}
	}
}

// TestRealServerVision sends real JPEGs of ../shared/data/medvqa-sample
// through llama-server with a vision projector (--mmproj, the tiny one
// .ci/tiny_mmproj.py writes): the run completes, and the images reached
// the model, since an item's prompt tokens, as the server counted them,
// grow by the image's tokens over the same question without it. A
// corrupt image is refused before any request.
func TestRealServerVision(t *testing.T) {
	mmproj := os.Getenv("PSVEVAL_LLAMA_MMPROJ")
	if mmproj == "" {
		t.Skip("no vision projector: set PSVEVAL_LLAMA_MMPROJ (.ci/run does, after .ci/llama-server.sh writes it)")
	}
	sample := "../../../shared/data/medvqa-sample/items.jsonl"
	if _, err := os.Stat(sample); err != nil {
		t.Skip("needs ../shared/data/medvqa-sample beside the repository: " + err.Error())
	}
	srv := startLlama(t, "--mmproj", mmproj)
	ctx := t.Context()
	dir := t.TempDir()
	// The first 6 items, and the same items without their images.
	var with, without strings.Builder
	var ids []string
	for _, l := range readLines(t, sample)[:6] {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m["id"].(string))
		b, _ := json.Marshal(m)
		with.Write(append(b, '\n'))
		delete(m, "image")
		b, _ = json.Marshal(m)
		without.Write(append(b, '\n'))
	}
	prompts := func(name, data string) map[string]int64 {
		t.Helper()
		out := filepath.Join(dir, name)
		root, _ := filepath.Abs(filepath.Join(filepath.Dir(sample), "images"))
		_, stderr, code := cli(t, ctx, llamaArgs(srv, writeFile(t, dir, name+".jsonl", data), out, "--image-root", root)...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", name, code, stderr)
		}
		got := map[string]int64{}
		for _, r := range readResults(t, out) {
			if r.Status != eval.StatusOK {
				t.Errorf("%s: item %s is %s: %s", name, r.ID, r.Status, r.Error)
			}
			got[r.ID] = r.Usage.Model.Prompt
		}
		return got
	}
	img, txt := prompts("with-images", with.String()), prompts("without-images", without.String())
	for _, id := range ids {
		if img[id] <= txt[id] {
			t.Errorf("%s: %d prompt tokens with its image, %d without: the image did not reach the model", id, img[id], txt[id])
		}
	}
	t.Logf("prompt tokens with and without the image: %v / %v", img, txt)
	// A corrupt image: refused before any request.
	_, bad := corruptJPEG(t, dir)
	corrupt := writeFile(t, dir, "corrupt.jsonl", `{"id":"broken","question":"Is there a mass?","answer":"yes","question_type":"VP","image":"`+bad+`"}`+"\n")
	_, stderr, code := cli(t, ctx, llamaArgs(srv, corrupt, filepath.Join(dir, "corrupt"))...)
	if code != 2 || !strings.Contains(stderr, `"broken"`) || !strings.Contains(stderr, "does not decode") {
		t.Errorf("a corrupt image: exit %d, want 2 naming the item\n%s", code, stderr)
	}
}
