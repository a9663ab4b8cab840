package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/pipeline"
)

// runBatch is a small stand-in for vllm run-batch: it reads an OpenAI
// Batch input file and POSTs each body to the server, writing the output
// file's lines; it stops after limit requests (a batch cut off half
// way) when limit ≥ 0.
func runBatch(t *testing.T, srv *llmtest.Server, in, out string, limit int) int {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b bytes.Buffer
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	n := 0
	for sc.Scan() {
		if limit >= 0 && n == limit {
			break
		}
		var req pipeline.BatchRequest
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil || req.Method != "POST" || req.URL != "/v1/chat/completions" {
			t.Fatalf("not a batch request line (%v): %.200s", err, sc.Text())
		}
		resp, err := http.Post(strings.TrimSuffix(srv.URL, "/v1")+req.URL, "application/json", bytes.NewReader(req.Body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		line, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("batch_req_%d", n), "custom_id": req.CustomID,
			"response": map[string]any{"status_code": resp.StatusCode, "request_id": fmt.Sprint(n), "body": json.RawMessage(body)}, "error": nil})
		b.Write(append(line, '\n'))
		n++
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBatchRoundTrip: export → a stand-in run-batch → import, for the
// answers and then the judgments, with the first answer batch cut off
// half way (import what came back, export the rest), leaves a run that
// `run` finishes without asking anything, with results equal to an
// online run's. Stale, unknown and repeated lines are refused by name.
func TestBatchRoundTrip(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	online := filepath.Join(dir, "online")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, online)...); code != 0 {
		t.Fatalf("online run: exit %d\n%s", code, stderr)
	}
	offline := filepath.Join(dir, "offline")
	base := runArgs(srv, offline)[1:] // the run's flags, without "run"
	batch := func(args ...string) string {
		t.Helper()
		_, stderr, code := cli(t, t.Context(), append(append([]string{"batch"}, args[0]), append(slices.Clone(base), args[1:]...)...)...)
		if code != 0 {
			t.Fatalf("batch %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return stderr
	}
	req, res := filepath.Join(dir, "requests.jsonl"), filepath.Join(dir, "results.jsonl")
	m0, j0 := srv.Requests("model"), srv.Requests("judge")
	batch("export", "--what", "answers", "-o", req)
	if n := len(readLines(t, req)); n != 60 {
		t.Fatalf("%d answer requests exported, want 60", n)
	}
	runBatch(t, srv, req, res, 25) // cut off after 25
	if s := batch("import", res); !strings.Contains(s, "imported 25 answers") {
		t.Fatalf("import of a half batch:\n%s", s)
	}
	batch("export", "--what", "answers", "-o", req)
	if n := len(readLines(t, req)); n != 35 {
		t.Fatalf("%d answer requests exported after 25 came back, want the other 35", n)
	}
	runBatch(t, srv, req, res, -1)
	batch("import", res)
	batch("export", "--what", "judgments", "-o", req)
	runBatch(t, srv, req, res, -1)
	if s := batch("import", res); !strings.Contains(s, "imported 0 answers and 60 judgments") {
		t.Fatalf("judgment import:\n%s", s)
	}
	// A stale or repeated line is refused by name, and nothing imported.
	lines := readLines(t, res)
	bad := writeFile(t, dir, "bad.jsonl", lines[0]+"\n"+lines[0]+"\n"+strings.Replace(lines[1], `"custom_id":"judgment|`, `"custom_id":"judgment|nobody-`, 1)+"\n")
	_, stderr, code := cli(t, t.Context(), append([]string{"batch", "import"}, append(slices.Clone(base), bad)...)...)
	if code != 2 || !strings.Contains(stderr, "again") || !strings.Contains(stderr, "no judge") || !strings.Contains(stderr, "already judged") {
		t.Errorf("a bad batch file: exit %d, want 2 naming each bad line\n%s", code, stderr)
	}
	batched := srv.Requests("model") - m0
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, offline)...); code != 0 {
		t.Fatalf("run after the imports: exit %d\n%s", code, stderr)
	}
	if m, j := srv.Requests("model")-m0, srv.Requests("judge")-j0; m != 60 || j != 60 || batched != 60 {
		t.Errorf("model %d and judge %d requests in all (the batches' included), want 60 each: the run asked again", m, j)
	}
	got := stripTimes(t, readLines(t, filepath.Join(offline, "results.jsonl")), true)
	want := stripTimes(t, readLines(t, filepath.Join(online, "results.jsonl")), true)
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("results differ from the online run's at line %d:\n got %s\nwant %s", i+1, got[i], want[i])
			}
		}
		t.Fatalf("results differ: %d lines vs %d", len(got), len(want))
	}
}
