package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
)

// TestNoSecretInAnyOutput runs against an endpoint that echoes every
// request (headers included) into its answers and errors, with credentials
// in the URLs too, and greps every output for the secrets.
func TestNoSecretInAnyOutput(t *testing.T) {
	const modelKey, judgeKey, password = "sk-model-SECRET-4242", "sk-judge-SECRET-1717", "hunter2pw"
	t.Setenv("PSVEVAL_MODEL_API_KEY", modelKey)
	t.Setenv("PSVEVAL_JUDGE_API_KEY", judgeKey)
	srv := fakeServer(t, llmtest.Config{Echo: true})
	withPw := strings.Replace(srv.URL, "http://", "http://admin:"+password+"@", 1)
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	args := runArgs(srv, out, "--log-level", "debug", "--limit", "12")
	for i, a := range args {
		if a == srv.URL {
			args[i] = withPw
		}
	}
	stdout, stderr, code := cli(t, t.Context(), args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// The endpoint rejects the key and echoes the request in its error.
	rejecting := fakeServer(t, llmtest.Config{Echo: true, APIKey: "another-key", PublicModels: true})
	out401 := filepath.Join(dir, "run401")
	args = runArgs(rejecting, out401, "--log-level", "debug", "--limit", "12")
	for i, a := range args {
		if a == rejecting.URL {
			args[i] = strings.Replace(rejecting.URL, "http://", "http://admin:"+password+"@", 1)
		}
	}
	stdout2, stderr2, code := cli(t, t.Context(), args...)
	if code != 3 || !strings.Contains(stderr2, "HTTP 401") {
		t.Fatalf("rejected key: exit %d\n%s", code, stderr2)
	}
	// A URL without a scheme is refused before anything is written, and
	// its password is shown nowhere.
	outNoScheme := filepath.Join(dir, "noscheme")
	args = runArgs(srv, outNoScheme, "--limit", "2")
	for i, a := range args {
		if a == srv.URL {
			args[i] = strings.Replace(srv.URL, "http://", "alice:"+password+"@", 1)
		}
	}
	stdout3, stderr3, code := cli(t, t.Context(), args...)
	if code != 2 || !strings.Contains(stderr3, "--model-url") || !strings.Contains(stderr3, "REDACTED@") {
		t.Errorf("URL without a scheme: exit %d, want 2 naming --model-url\n%s", code, stderr3)
	}
	if _, err := os.Stat(outNoScheme); err == nil {
		t.Error("a refused URL left a run directory behind")
	}
	texts := map[string]string{"stdout": stdout + stdout2 + stdout3, "stderr": stderr + stderr2 + stderr3}
	for _, d := range []string{out, out401} {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(d, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			texts[filepath.Join(filepath.Base(d), e.Name())] = string(b)
		}
	}
	if !strings.Contains(texts["run/results.jsonl"], "[REDACTED]") {
		t.Error("the echoed key should show as [REDACTED] in the answers: is the echo working?")
	}
	for name, text := range texts {
		for _, secret := range []string{modelKey, judgeKey, password} {
			if strings.Contains(text, secret) {
				i := strings.Index(text, secret)
				t.Errorf("%s contains the secret %q: ...%s...", name, secret, text[max(0, i-80):min(len(text), i+40)])
			}
		}
	}
}
