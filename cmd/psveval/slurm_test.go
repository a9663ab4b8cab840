package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/llmtest"
)

// readmeBlock returns the body of the README's first fenced block of
// lang whose text starts with prefix, so a test runs what the README
// says, as written.
func readmeBlock(t *testing.T, lang, prefix string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(string(b), "```"+lang+"\n")[1:] {
		body, _, ok := strings.Cut(part, "```")
		if ok && strings.HasPrefix(body, prefix) {
			return body
		}
	}
	t.Fatalf("README.md has no %s block starting %q", lang, prefix)
	return ""
}

// slurm runs a Slurm command and returns its trimmed output.
func slurm(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestSlurmRecipe runs the README's Slurm scripts, extracted from it, on
// the one-node cluster .ci/slurm.sh starts, with the fake server as the
// endpoints: the array and its afterany merge give a run equal to an
// unsharded one; a second submission of the array while the first runs
// is refused task by task by the run directories' locks; a task killed
// with kill -9 and requeued resumes its shard, and the merge still runs.
func TestSlurmRecipe(t *testing.T) {
	if os.Getenv("PSVEVAL_SKIP_SLURM") == "1" {
		t.Skip("PSVEVAL_SKIP_SLURM=1: the Slurm test is left out")
	}
	if os.Getenv("PSVEVAL_SLURM") != "1" {
		t.Skip("no Slurm cluster: .ci/run starts one with .ci/slurm.sh start and sets PSVEVAL_SLURM=1")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	writeFile(t, bin, "psveval", fmt.Sprintf("#!/bin/sh\nPSVEVAL_TEST_MAIN=1 exec %q \"$@\"\n", exe))
	os.Chmod(filepath.Join(bin, "psveval"), 0o755)
	// About 8 items a shard at 1.2 s each: the tasks run for some 10 s.
	srv := fakeServer(t, llmtest.Config{ModelLatency: llmtest.Latency{Mean: 200 * time.Millisecond}, JudgeLatency: llmtest.Latency{Mean: time.Second}})
	data, _ := filepath.Abs(fixture)
	cfg := fmt.Sprintf("data: %s\nmodel-url: %s\nmodel: lingshu-7b\njudge-url: %s\njudge-model: %s\nprogress: none\ncache: %s\nconcurrency: 1\njudge-concurrency: 1\n",
		data, srv.URL, srv.URL, llmtest.DefaultJudge, filepath.Join(dir, "cache"))
	writeFile(t, dir, "eval.yaml", cfg)
	writeFile(t, dir, "shard.sh", readmeBlock(t, "sh", "#!/bin/sh\n# shard.sh"))
	writeFile(t, dir, "submit.sh", readmeBlock(t, "sh", "# submit.sh"))
	env := append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	t.Cleanup(func() { exec.Command("scancel", "--name=shard.sh").Run(); exec.Command("scancel", "--name=wrap").Run() })

	ids := strings.Fields(slurm(t, dir, env, "sh", "submit.sh"))
	if len(ids) != 2 {
		t.Fatalf("submit.sh printed %q, want the array's and the merge's job ids", ids)
	}
	jid, mjid := ids[0], ids[1]
	runs := filepath.Join(dir, "runs")
	// Every task has taken its shard's lock once its answer journal exists.
	waitFor(t, 60*time.Second, "every task to start", func() bool {
		for i := range 8 {
			if _, err := os.Stat(filepath.Join(runs, fmt.Sprintf("shard-%d", i), "answers.jsonl")); err != nil {
				return false
			}
		}
		return true
	})
	// A second submission while the first runs: each of its tasks is
	// refused by the lock.
	jid2 := slurm(t, dir, env, "sbatch", "--parsable", "shard.sh")
	waitFor(t, 60*time.Second, "the second array to end", func() bool { return slurmGone(dir, env, jid2) })
	for i := range 8 {
		b, _ := os.ReadFile(filepath.Join(dir, "logs", fmt.Sprintf("shard-%d.log", i)))
		if !strings.Contains(string(b), "is being written by psveval run --config eval.yaml --shard "+fmt.Sprint(i)+"/8") {
			t.Errorf("shard-%d.log does not show the second task refused by the lock:\n%s", i, b)
		}
	}
	// Kill task 3's psveval with kill -9, then requeue the task.
	lock, err := os.ReadFile(filepath.Join(runs, "shard-3", "lock"))
	m := regexp.MustCompile(`pid (\d+)`).FindSubmatch(lock)
	if err != nil || m == nil {
		t.Fatalf("no holder pid in shard-3's lock file (%v): %q", err, lock)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	before := len(readLinesIfAny(filepath.Join(runs, "shard-3", "judgments.jsonl")))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
	task := jid + "_3"
	waitFor(t, 30*time.Second, "task 3 to end", func() bool { return slurmGone(dir, env, task) })
	slurm(t, dir, env, "scontrol", "requeue", task)
	requeued := time.Now()
	t.Logf("task 3 killed with %d judgments journaled, and requeued", before)
	waitFor(t, 4*time.Minute, "the merge to run", func() bool { return slurmGone(dir, env, jid) && slurmGone(dir, env, mjid) })
	t.Logf("the requeued task and the merge ended %s after the requeue", time.Since(requeued).Round(time.Second))
	mlog, _ := os.ReadFile(filepath.Join(dir, "logs", "merge.log"))
	if _, err := os.Stat(filepath.Join(runs, "lingshu", "summary.json")); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "logs", "shard-3.log"))
		t.Fatalf("no merged run: %v\nmerge.log:\n%s\nshard-3.log:\n%s", err, mlog, b)
	}
	log3, _ := os.ReadFile(filepath.Join(dir, "logs", "shard-3.log"))
	if !strings.Contains(string(log3), "resuming") {
		t.Errorf("the requeued task 3 did not resume its shard:\n%s", log3)
	}
	// The merged run equals an unsharded one.
	whole := filepath.Join(dir, "whole")
	if _, stderr, code := cli(t, t.Context(), "run", "--config", filepath.Join(dir, "eval.yaml"), "--out", whole, "--concurrency", "16", "--judge-concurrency", "16"); code != 0 {
		t.Fatalf("unsharded run: exit %d\n%s", code, stderr)
	}
	got := stripTimes(t, readLines(t, filepath.Join(runs, "lingshu", "results.jsonl")), true)
	want := stripTimes(t, readLines(t, filepath.Join(whole, "results.jsonl")), true)
	if !slices.Equal(got, want) {
		t.Errorf("the merged results differ from the unsharded run's (%d vs %d lines)", len(got), len(want))
	}
}

// slurmGone reports whether job id (an array, a task or a job) has left
// the queue.
func slurmGone(dir string, env []string, id string) bool {
	cmd := exec.Command("squeue", "-h", "-j", id, "-o", "%i %T")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	return err == nil && strings.TrimSpace(string(out)) == "" || err != nil && strings.Contains(err.Error(), "exit status 1")
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("waited %v for %s", d, what)
}

func readLinesIfAny(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}
