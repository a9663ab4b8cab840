package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
)

// TestRunChecksSettingsFirst gives psveval run each bad setting: each is
// a usage error (exit 2) naming the setting, sent before any request and
// before the run directory is made.
func TestRunChecksSettingsFirst(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	yaml := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	listModel := yaml("list.yaml", "model: [A, B]\n")
	listConc := yaml("conc.yaml", "concurrency: [1, 2]\n")
	typeConc := yaml("type.yaml", "concurrency: lots\n")
	for _, tc := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"limit", []string{"--limit", "-1"}, "--limit"},
		{"concurrency", []string{"--concurrency", "0"}, "--concurrency"},
		{"judge concurrency", []string{"--judge-concurrency", "-2"}, "--judge-concurrency"},
		{"max tokens", []string{"--max-tokens", "-5"}, "--max-tokens"},
		{"judge max tokens", []string{"--judge-max-tokens", "0"}, "--judge-max-tokens"},
		{"max attempts", []string{"--max-attempts", "0"}, "--max-attempts"},
		{"call timeout", []string{"--call-timeout", "-1s"}, "--call-timeout"},
		{"max error rate", []string{"--max-error-rate", "1.5"}, "--max-error-rate"},
		{"model rps", []string{"--model-rps", "-1"}, "--model-rps"},
		{"max image bytes", []string{"--max-image-bytes", "0"}, "--max-image-bytes"},
		{"max text bytes", []string{"--max-text-bytes", "0"}, "--max-text-bytes"},
		{"progress", []string{"--progress", "fancy"}, "--progress"},
		{"judge format", []string{"--judge-format", "yaml"}, "--judge-format"},
		{"judge mode", []string{"--judge-mode", "both"}, "--judge-mode"},
		{"score", []string{"--score", "median"}, "--score"},
		{"model param JSON", []string{"--model-param", "top_k={bad"}, "model-param"},
		{"URL without scheme", []string{"--model-url", "127.0.0.1:8099/v1"}, "--model-url"},
		{"URL with another scheme", []string{"--model-url", "ftp://127.0.0.1/v1"}, "--model-url"},
		{"URL with a query", []string{"--model-url", srv.URL + "?x=1"}, "--model-url"},
		{"judge URL", []string{"--judge-url", "localhost"}, "--judge-url"},
		{"config list for one value", []string{"--config", listModel}, "model: want one value, got a list"},
		{"config list for a number", []string{"--config", listConc}, "concurrency: want one value"},
		{"config type", []string{"--config", typeConc}, `concurrency: want an integer or auto, got "lots"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "run")
			args := runArgs(srv, out, tc.extra...)
			if tc.name == "URL without scheme" || strings.HasPrefix(tc.name, "URL with") {
				args = replaceArg(args, srv.URL, tc.extra[1], 1)
			}
			if tc.name == "judge URL" {
				args = replaceArg(args, srv.URL, tc.extra[1], 2)
			}
			if strings.HasPrefix(tc.name, "config") {
				args = dropFlag(dropFlag(args, "--model"), "--concurrency")
			}
			stdout, stderr, code := cli(t, t.Context(), args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused setting left a run directory behind")
			}
		})
	}
	if n := srv.Requests("model") + srv.Requests("judge"); n != 0 {
		t.Errorf("%d requests were sent for refused settings", n)
	}
}

// replaceArg replaces the nth occurrence (from 1) of old in args.
func replaceArg(args []string, old, new string, nth int) []string {
	out := append([]string{}, args...)
	for i, a := range out {
		if a == old {
			if nth--; nth == 0 {
				out[i] = new
				break
			}
		}
	}
	return out
}

// dropFlag removes a flag and its value from args.
func dropFlag(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == name {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func TestVersionAndHelpHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, errOut, code := cli(t, t.Context(), args...)
		if code != 0 || !strings.Contains(out, "psveval") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	out, errOut, code := cli(t, t.Context(), "help", "help")
	if code != 0 || !strings.Contains(out, "usage: psveval") {
		t.Errorf("help help: exit %d\n%s%s", code, out, errOut)
	}
}

// TestJSONLByteOrderMark reads a JSONL file that starts with a UTF-8 BOM.
func TestJSONLByteOrderMark(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "psv-mini.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bom.jsonl")
	if err := os.WriteFile(p, append([]byte("\xef\xbb\xbf"), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, t.Context(), "inspect", "--image-root", mustAbs(t, filepath.Join("..", "..", "testdata")), p)
	if code != 0 {
		t.Errorf("inspect of a JSONL file with a BOM: exit %d\n%s%s", code, out, errOut)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
