package main

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
)

// TestPrintedCommandsWork pastes the commands psveval prints for an
// unfinished run and runs them: a run stopped by a judge that refuses
// the key says how to resume it, and report, gate and merge say how to
// finish it; each printed line, run as it is, finishes the run.
func TestPrintedCommandsWork(t *testing.T) {
	t.Parallel()
	var refuse atomic.Bool
	refuse.Store(true)
	srv := fakeServer(t, llmtest.Config{Hook: func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest, kind string) bool {
		if kind == "judge" && refuse.Load() {
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
			return true
		}
		return false
	}})
	dir := t.TempDir()
	out := filepath.Join(dir, "unf")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--preflight=false")...)
	if code == 0 {
		t.Fatal("the run finished against a judge that refuses the key")
	}
	resume := regexp.MustCompile(`resume, once fixed, with: (.+)`).FindStringSubmatch(stderr)
	if resume == nil {
		t.Fatalf("no resume command in:\n%s", stderr)
	}
	var printed []string
	for _, args := range [][]string{{"report", out}, {"gate", "--baseline", out, "--candidate", out}} {
		o, e, _ := cli(t, t.Context(), args...)
		m := regexp.MustCompile(`finish it with: (psveval [^\n]+)`).FindStringSubmatch(o + e)
		if m == nil {
			t.Fatalf("%v printed no command:\n%s%s", args, o, e)
		}
		printed = append(printed, m[1])
	}
	refuse.Store(false)
	for _, line := range append([]string{resume[1]}, printed...) {
		args := splitShell(t, line)
		if args[0] != "psveval" || args[1] != "run" {
			t.Errorf("printed %q: want a psveval run command", line)
			continue
		}
		if _, stderr, code := cli(t, t.Context(), args[1:]...); code != 0 {
			t.Errorf("pasting %q: exit %d\n%s", line, code, stderr)
		}
	}
	if !rundir.Finished(out) {
		t.Error("the pasted commands did not finish the run")
	}
}

// splitShell splits a line that rundir.ShellJoin wrote.
func splitShell(t *testing.T, line string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	in, any := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' && !in:
			in, any = true, true
		case c == '\'' && in:
			in = false
		case c == '\\' && !in && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == ' ' && !in:
			if cur.Len() > 0 || any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 || any {
		out = append(out, cur.String())
	}
	return out
}
