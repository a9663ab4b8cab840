package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
)

// TestOutputPathsCheckedFirst: an output path that cannot be written is
// a usage error (exit 2) naming it, before any request or rendering; a
// merge shard without results.jsonl is named with the command that
// finishes it; and a config file's relative paths are relative to its
// folder, a missing one named with the file and key.
func TestOutputPathsCheckedFirst(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	file := writeFile(t, dir, "afile", "x")
	run := filepath.Join(dir, "run")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, run)...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	before := srv.Requests("model") + srv.Requests("judge")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{runArgs(srv, file), "--out " + file + ": a file, not a directory"},
		{runArgs(srv, filepath.Join(file, "sub")), "is a file, not a directory"},
		{[]string{"report", "--format", "html", "-o", filepath.Join(dir, "nodir", "x.html"), run}, "does not exist"},
		{[]string{"report", "--format", "csv", "-o", dir, run}, "a directory: give a file name"},
		{[]string{"audit", "--sample", "5", "-o", filepath.Join(dir, "nodir", "s.jsonl"), run}, "does not exist"},
		{[]string{"merge", run, "--out", file}, "a file, not a directory"},
		{[]string{"demo", "--out", file}, "a file, not a directory"},
		{[]string{"gate", "--baseline", run, "--candidate", run, "--html", filepath.Join(dir, "nodir", "g.html")}, "does not exist"},
		{[]string{"compare", "--format", "json", "-o", filepath.Join(dir, "nodir", "c.json"), run, run}, "does not exist"},
	} {
		_, stderr, code := cli(t, t.Context(), tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, want 2 saying %q\n%s", tc.args, code, tc.want, stderr)
		}
	}
	if n := srv.Requests("model") + srv.Requests("judge"); n != before {
		t.Errorf("refused commands sent %d requests", n-before)
	}
	// A shard without results.jsonl.
	var shards []string
	for i := range 2 {
		d := filepath.Join(dir, "shard-"+string(rune('0'+i)))
		if _, stderr, code := cli(t, t.Context(), runArgs(srv, d, "--shard", string(rune('0'+i))+"/2")...); code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", i, code, stderr)
		}
		shards = append(shards, d)
	}
	os.Remove(filepath.Join(shards[1], "results.jsonl"))
	_, stderr, code := cli(t, t.Context(), "merge", shards[0], shards[1], "--out", filepath.Join(dir, "merged"))
	if code != 2 || !strings.Contains(stderr, shards[1]) || !strings.Contains(stderr, "finish it with: psveval run ") {
		t.Errorf("merge of a shard without results: exit %d, want 2 naming it with the command that finishes it\n%s", code, stderr)
	}
	// Relative paths in a config file.
	cfgDir := filepath.Join(dir, "cfg")
	os.Mkdir(cfgDir, 0o755)
	data, _ := os.ReadFile(fixture)
	writeFile(t, cfgDir, "items.parquet", string(data))
	cfg := writeFile(t, cfgDir, "eval.yaml", "data: items.parquet\nout: runs/r\nmodel-url: "+srv.URL+"\nmodel: lingshu-7b\njudge-url: "+srv.URL+"\njudge-model: fake-judge\nprogress: none\nno-cache: true\n")
	if _, stderr, code := cli(t, t.Context(), "run", "--config", cfg); code != 0 {
		t.Fatalf("a config with relative paths: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(cfgDir, "runs", "r", "summary.json")); err != nil {
		t.Errorf("out: runs/r in %s did not resolve against its folder: %v", cfg, err)
	}
	bad := writeFile(t, cfgDir, "bad.yaml", "data: missing.parquet\n")
	_, stderr, code = cli(t, t.Context(), "run", "--config", bad)
	if code != 2 || !strings.Contains(stderr, "config "+bad+": data: missing.parquet") {
		t.Errorf("a missing data file in a config: exit %d, want 2 naming the file and key\n%s", code, stderr)
	}
}
