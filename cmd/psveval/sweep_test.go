package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/rundir"

	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/sweep"
)

// writeSweep writes a sweep over λ ∈ {0, 0.25, 0.5, 0.75, 1} whose served
// models answer right with a rate that peaks at λ = 0.5; the last point is
// at a URL, the others are served by psveval fake-server processes that
// the sweep starts (this test binary, run as psveval).
func writeSweep(t *testing.T, items int) (spec, data string) {
	t.Helper()
	data, refs := textSet(t, items)
	judge := llmtest.New(t, llmtest.Config{References: refs})
	last := llmtest.New(t, llmtest.Config{References: refs, CorrectRate: 0.5, ServedModel: "lam-1"})
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := fmt.Sprintf("data: %s\njudge-url: %s\njudge-model: %s\ncache: %s\nconcurrency: 8\njudge-concurrency: 8\n",
		data, judge.URL, llmtest.DefaultJudge, filepath.Join(dir, "cache"))
	writeFile(t, dir, "eval.yaml", run)
	var b strings.Builder
	b.WriteString("name: parabola\naxis: lambda\nrun: eval.yaml\npoints:\n")
	for _, v := range []float64{0, 0.25, 0.5, 0.75} {
		rate := 0.9 - 1.6*(v-0.5)*(v-0.5)
		fmt.Fprintf(&b, "  - {value: %g, model: lam-%g, serve: \"PSVEVAL_TEST_MAIN=1 %s fake-server --addr 127.0.0.1:{port} --served-model {model} --correct-rate %g --data %s\"}\n", v, v, exe, rate, data)
	}
	fmt.Fprintf(&b, "  - {value: 1, model: lam-1, model-url: %s}\n", last.URL)
	return writeFile(t, dir, "sweep.yaml", b.String()), data
}

// TestSweep runs the parabola sweep end to end: λ = 0.5 is best with most
// of the resampling mass, the plot files are real, the report command
// renders the sweep, and a second run skips every finished point.
func TestSweep(t *testing.T) {
	t.Parallel()
	spec, _ := writeSweep(t, 300)
	out := filepath.Join(t.TempDir(), "sweep")
	stdout, stderr, code := cli(t, t.Context(), "sweep", "--spec", spec, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var a struct {
		Best []stats.BestColumn `json:"best"`
	}
	readJSON(t, filepath.Join(out, "analysis.json"), &a)
	var avg stats.BestColumn
	for _, b := range a.Best {
		if b.Group == "Avg (micro)" {
			avg = b
		}
	}
	if avg.Best != 0.5 || avg.Share(0.5) < 50 {
		t.Errorf("best λ for Avg %g with shares %v, want 0.5 with most of the mass", avg.Best, avg.Shares)
	}
	if !strings.Contains(stdout, "best lambda per column") || !strings.Contains(stdout, "0.25 → 0.5") || !strings.Contains(stderr, "the judgment cache saved") || strings.Contains(stderr, "cache saved 0 judgments") {
		t.Errorf("sweep output lacks the analysis:\n%s\n%s", stdout, stderr)
	}
	f, err := os.Open(filepath.Join(out, "sweep.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 300 || uniform(img) {
		t.Errorf("sweep.png is %v and uniform=%v", b, uniform(img))
	}
	svg, err := os.ReadFile(filepath.Join(out, "sweep.svg"))
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("sweep.svg does not parse: %v", err)
		}
	}
	rep, stderr2, code := cli(t, t.Context(), "report", "--paper", out)
	if code != 0 || !strings.Contains(rep, "lambda=0.5") || !strings.Contains(rep, "best lambda per column") || !strings.Contains(rep, "(paper)") {
		t.Errorf("report of the sweep directory: exit %d\n%s%s", code, rep, stderr2)
	}
	_, stderr, code = cli(t, t.Context(), "sweep", "--spec", spec, "--out", out)
	if code != 0 || strings.Count(stderr, "finished, skipped") != 5 {
		t.Errorf("a second run: exit %d, want every point skipped\n%s", code, stderr)
	}
}

// uniform reports whether every pixel of img is the same: a blank plot.
func uniform(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			if img.At(x, y) != first {
				return false
			}
		}
	}
	return true
}

// TestSweepRefusesBadSpecs: each malformed spec is a usage error naming
// the point and what is wrong, before anything runs.
// TestSweepSpecChanged: a sweep directory started with one spec refuses
// another, listing what differs.
func TestSweepSpecChanged(t *testing.T) {
	t.Parallel()
	spec, _ := writeSweep(t, 6)
	out := filepath.Join(t.TempDir(), "out")
	b, _ := os.ReadFile(spec)
	os.MkdirAll(out, 0o755)
	orig := strings.Replace(string(b), "  - {value: 0.75,", "  - {value: 0.8,", 1)
	first := writeFile(t, filepath.Dir(spec), "first.yaml", orig)
	// Record the first spec as the directory's, as a started sweep does.
	s, err := sweep.Load(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(out); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cli(t, t.Context(), "sweep", "--spec", spec, "--out", out)
	if code != 2 || !strings.Contains(stderr, "lambda=0.8: recorded, not in the spec now") || !strings.Contains(stderr, "lambda=0.75: new in the spec") {
		t.Errorf("an edited spec: exit %d, want 2 listing the differences\n%s", code, stderr)
	}
}

func TestSweepRefusesBadSpecs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "eval.yaml", "data: x.jsonl\n")
	head := "name: s\naxis: lambda\nrun: eval.yaml\npoints:\n"
	ok := "  - {value: 0, model: a, model-url: http://127.0.0.1:1/v1}\n"
	for _, tc := range []struct{ name, points, want string }{
		{"duplicate", ok + "  - {value: 0, model: b, model-url: http://127.0.0.1:1/v1}\n", "point 2 (value 0): the value is also point 1's"},
		{"not a number", ok + "  - {value: half, model: b, model-url: http://127.0.0.1:1/v1}\n", "not a sweep spec"},
		{"both", ok + "  - {value: 1, model: b, model-url: http://127.0.0.1:1/v1, serve: \"x {port}\"}\n", "either serve"},
		{"neither", ok + "  - {value: 1, model: b}\n", "either serve"},
		{"no port", ok + "  - {value: 1, model: b, serve: \"vllm serve ckpt\"}\n", "{port}"},
		{"one point", ok, "two points or more"},
		{"bad URL", ok + "  - {value: 1, model: b, model-url: \"localhost:8000\"}\n", "model-url"},
	} {
		spec := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml", head+tc.points)
		_, stderr, code := cli(t, t.Context(), "sweep", "--spec", spec, "--out", filepath.Join(t.TempDir(), "out"))
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, want 2 with %q\n%s", tc.name, code, tc.want, stderr)
		}
	}
}

// TestSweepServerFailures: a serve command that exits early, and one that
// never serves, stop the sweep with exit 3 and the end of the server's
// log; the finished point is kept and no server is left running.
func TestSweepServerFailures(t *testing.T) {
	t.Parallel()
	data, refs := textSet(t, 20)
	judge := llmtest.New(t, llmtest.Config{References: refs})
	dir := t.TempDir()
	writeFile(t, dir, "eval.yaml", fmt.Sprintf("data: %s\njudge-url: %s\njudge-model: %s\nno-cache: true\n", data, judge.URL, llmtest.DefaultJudge))
	good := llmtest.New(t, llmtest.Config{References: refs, ServedModel: "m0"})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, serve, want string }{
		{"exits early", `echo "CUDA out of memory on {port}"; exit 1`, "CUDA out of memory"},
		{"never ready", `echo "loading weights"; sleep 60 # {port}`, "did not list"},
		{"another name", "PSVEVAL_TEST_MAIN=1 " + exe + " fake-server --addr 127.0.0.1:{port}", `lists fake-vlm, lingshu-7b`},
	} {
		spec := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml", fmt.Sprintf(
			"name: s\naxis: lambda\nrun: eval.yaml\npoints:\n  - {value: 0, model: m0, model-url: %s}\n  - {value: 1, model: m1, serve: %q}\n", good.URL, tc.serve))
		out := filepath.Join(t.TempDir(), "out")
		start := time.Now()
		_, stderr, code := cli(t, t.Context(), "sweep", "--spec", spec, "--out", out, "--serve-timeout", "2s", "--stop-grace", "1s")
		if code != 3 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "resume with") {
			t.Errorf("%s: exit %d, want 3 with %q and the resume command\n%s", tc.name, code, tc.want, stderr)
		}
		if !rundir.Finished(filepath.Join(out, "lambda=0")) {
			t.Errorf("%s: the finished point was not kept", tc.name)
		}
		var rs []struct{ PGID int }
		readJSON(t, filepath.Join(out, "servers.json"), &rs)
		if len(rs) != 0 {
			t.Errorf("%s: servers still recorded: %v", tc.name, rs)
		}
		t.Logf("%s: reported after %s", tc.name, time.Since(start).Round(time.Millisecond))
	}
}

// TestSweepResumesAfterKill9 kills psveval sweep while a point's server
// runs; the next start stops the orphaned server, skips finished points,
// finishes the rest, and no point has an answer journaled twice.
func TestSweepResumesAfterKill9(t *testing.T) {
	t.Parallel()
	spec, _ := writeSweep(t, 200)
	out := filepath.Join(t.TempDir(), "sweep")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "sweep", "--spec", spec, "--out", out)
	cmd.Env = append(os.Environ(), "PSVEVAL_TEST_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the sweep has started a server for a point.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var rs []struct{ PGID int }
		if b, err := os.ReadFile(filepath.Join(out, "servers.json")); err == nil && json.Unmarshal(b, &rs) == nil && len(rs) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	var orphans []struct{ PGID int }
	readJSON(t, filepath.Join(out, "servers.json"), &orphans)
	_, stderr, code := cli(t, t.Context(), "sweep", "--spec", spec, "--out", out)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	for _, o := range orphans {
		if evaltest.GroupAlive(o.PGID) {
			t.Errorf("the orphaned server group %d still runs", o.PGID)
		}
	}
	if len(orphans) > 0 && !strings.Contains(stderr, "left running by an earlier sweep") {
		t.Errorf("the resume does not say it stopped the orphan:\n%s", stderr)
	}
	entries, _ := filepath.Glob(filepath.Join(out, "lambda=*", "answers.jsonl"))
	if len(entries) != 5 {
		t.Fatalf("%d points have answers, want 5", len(entries))
	}
	for _, e := range entries {
		keys := map[string]bool{}
		for _, l := range readLines(t, e) {
			var r struct{ Key, Error string }
			json.Unmarshal([]byte(l), &r)
			if keys[r.Key] && r.Error == "" {
				t.Errorf("%s: %s answered twice", e, r.Key[:12])
			}
			keys[r.Key] = true
		}
	}
}
