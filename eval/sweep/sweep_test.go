package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/evaltest"
)

func writeSpec(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sweep.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	t.Parallel()
	path := writeSpec(t, `
name: moft
run: run.yaml
points:
  - {value: 0.5, model: m05, model-url: "http://127.0.0.1:8001/v1"}
  - {value: 0, model: m0, serve: "vllm serve ckpt0 --port {port} --served-model-name {model}"}
  - {value: 1, model: m1, model-url: "http://127.0.0.1:8002/v1"}
`)
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Axis != "lambda" || s.Run != filepath.Join(filepath.Dir(path), "run.yaml") {
		t.Errorf("axis %q, run %q: want lambda by default and the run file beside the spec", s.Axis, s.Run)
	}
	var labels []string
	for _, p := range s.Sorted() {
		labels = append(labels, s.Label(p))
	}
	if got := strings.Join(labels, " "); got != "lambda=0 lambda=0.5 lambda=1" {
		t.Errorf("sorted labels %q", got)
	}
	if s.Points[0].Value != 0.5 {
		t.Error("Sorted reordered the spec's own points")
	}
	if d := s.Dir("/sw", s.Points[0]); d != "/sw/lambda=0.5" {
		t.Errorf("Dir = %q", d)
	}
}

func TestLoadRefusesBadSpecs(t *testing.T) {
	t.Parallel()
	const two = `  - {value: 0, model: a, model-url: "http://127.0.0.1:1/v1"}
  - {value: 1, model: b, model-url: "http://127.0.0.1:2/v1"}
`
	for name, c := range map[string]struct{ body, want string }{
		"unknown key":     {"run: r.yaml\nlambdas: [1]\npoints:\n" + two, "lambdas"},
		"no run":          {"points:\n" + two, `no "run"`},
		"one point":       {"run: r.yaml\npoints:\n  - {value: 0, model: a, model-url: \"http://127.0.0.1:1/v1\"}\n", "two points or more"},
		"axis with slash": {"run: r.yaml\naxis: a/b\npoints:\n" + two, `axis "a/b"`},
		"no model":        {"run: r.yaml\npoints:\n  - {value: 0, model-url: \"http://127.0.0.1:1/v1\"}\n  - {value: 1, model: b, model-url: \"http://127.0.0.1:2/v1\"}\n", "point 1 (value 0): no model name"},
		"both url and serve": {"run: r.yaml\npoints:\n  - {value: 0, model: a, model-url: \"http://127.0.0.1:1/v1\", serve: \"x {port}\"}\n  - {value: 1, model: b, model-url: \"http://127.0.0.1:2/v1\"}\n",
			"either serve"},
		"same value":     {"run: r.yaml\npoints:\n  - {value: 1, model: a, model-url: \"http://127.0.0.1:1/v1\"}\n  - {value: 1, model: b, model-url: \"http://127.0.0.1:2/v1\"}\n", "also point 1's"},
		"bad url":        {"run: r.yaml\npoints:\n  - {value: 0, model: a, model-url: \"localhost:8000\"}\n  - {value: 1, model: b, model-url: \"http://127.0.0.1:2/v1\"}\n", "point 1 (value 0): model-url"},
		"serve, no port": {"run: r.yaml\npoints:\n  - {value: 0, model: a, serve: \"vllm serve x\"}\n  - {value: 1, model: b, model-url: \"http://127.0.0.1:2/v1\"}\n", "{port}"},
		"not finite":     {"run: r.yaml\npoints:\n  - {value: .nan, model: a, model-url: \"http://127.0.0.1:1/v1\"}\n  - {value: 1, model: b, model-url: \"http://127.0.0.1:2/v1\"}\n", "finite number"},
	} {
		path := writeSpec(t, c.body)
		_, err := Load(path)
		var ie *eval.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Load = %v, want an input error naming %s and saying %q", name, err, path, c.want)
		}
	}
}

func TestWriteRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, ok, err := Read(dir); ok || err != nil {
		t.Errorf("Read of an empty directory = %v, %v; want not a sweep", ok, err)
	}
	if _, ok, err := Read(filepath.Join(dir, "nothing")); ok || err != nil {
		t.Errorf("Read of a missing directory = %v, %v; want not a sweep", ok, err)
	}
	s := &Spec{Name: "n", Axis: "lambda", Run: "/r.yaml", Points: []Point{{Value: 0.25, Model: "m", Serve: "s {port}"}}}
	if err := s.Write(filepath.Join(dir, "sw")); err != nil {
		t.Fatal(err)
	}
	got, ok, err := Read(filepath.Join(dir, "sw"))
	if err != nil || !ok || got.Name != "n" || len(got.Points) != 1 || got.Points[0] != s.Points[0] {
		t.Errorf("Read = %+v, %v, %v; want what was written", got, ok, err)
	}
}

// alive reports whether the process group pgid runs a process.
func alive(pgid int) bool { return evaltest.GroupAlive(pgid) }

// TestServerLifecycle starts serve commands that never serve: Start
// substitutes {port} and {model} and records the group; Ready reports an
// early exit with the log's end; Stop ends the group, Forget drops it;
// CleanOrphans kills what a crash would have left.
func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "server.log")
	s, err := Start(dir, "echo serving {model} on {port}; exec sleep 60", "m1", log)
	if err != nil {
		t.Fatal(err)
	}
	pgid := s.cmd.Process.Pid
	port := strings.TrimPrefix(strings.TrimSuffix(s.URL, "/v1"), "http://127.0.0.1:")
	want := "serving m1 on " + port
	for i := 0; Tail(log, 5) != want && i < 500; i++ {
		time.Sleep(10 * time.Millisecond) // the shell has yet to write its line
	}
	if got := Tail(log, 5); got != want {
		t.Errorf("log %q, want %q: the command with {model} and {port} substituted", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ServersFile)); !strings.Contains(string(b), "sleep 60") {
		t.Errorf("servers file does not record the server: %s", b)
	}
	if !alive(pgid) {
		t.Fatal("the server's process group does not run")
	}
	s.Stop(5 * time.Second)
	if alive(pgid) {
		t.Error("Stop left the server's process group running")
	}
	if err := s.Forget(dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ServersFile)); strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("servers file after Forget: %s", b)
	}

	early, err := Start(dir, "echo no such model {port} >&2; exit 3", "m2", log)
	if err != nil {
		t.Fatal(err)
	}
	err = early.Ready(context.Background(), "m2", time.Minute)
	if err == nil || !strings.Contains(err.Error(), "exited before serving") || !strings.Contains(err.Error(), "no such model") {
		t.Errorf("Ready on a command that exits = %v, want the exit and the log's end", err)
	}
	early.Stop(time.Second)

	orphan, err := Start(dir, "exec sleep 60 # {port}", "m3", log)
	if err != nil {
		t.Fatal(err)
	}
	n, err := CleanOrphans(dir)
	if err != nil || n != 1 {
		t.Errorf("CleanOrphans = %d, %v; want the one server left running", n, err)
	}
	<-orphan.done
	if alive(orphan.cmd.Process.Pid) {
		t.Error("CleanOrphans left the orphan running")
	}
}
