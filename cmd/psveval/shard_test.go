package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
)

// TestShardsMergeToTheUnshardedRun runs the fixture whole and in four
// shards: the shards are type-balanced and disjoint, and merged they give
// the unsharded run's results.jsonl and summary.json (latencies aside).
func TestShardsMergeToTheUnshardedRun(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, whole)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var shards []string
	sizes := map[int]bool{}
	for i := range 4 {
		d := filepath.Join(dir, fmt.Sprintf("shard-%d", i))
		if _, stderr, code := cli(t, t.Context(), runArgs(srv, d, "--shard", fmt.Sprintf("%d/4", i))...); code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", i, code, stderr)
		}
		sizes[len(readLines(t, filepath.Join(d, "results.jsonl")))] = true
		shards = append(shards, d)
	}
	if len(sizes) > 2 {
		t.Errorf("shard sizes %v differ by more than one item", sizes)
	}
	merged := filepath.Join(dir, "merged")
	// Shards in any order.
	if _, stderr, code := cli(t, t.Context(), append([]string{"merge", "--out", merged}, shards[2], shards[0], shards[3], shards[1])...); code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, stderr)
	}
	got := stripTimes(t, readLines(t, filepath.Join(merged, "results.jsonl")))
	want := stripTimes(t, readLines(t, filepath.Join(whole, "results.jsonl")))
	if !slices.Equal(got, want) {
		t.Errorf("merged results.jsonl differs from the unsharded run's (%d vs %d lines)", len(got), len(want))
	}
	var a, b stats.Summary
	readJSON(t, filepath.Join(merged, "summary.json"), &a)
	readJSON(t, filepath.Join(whole, "summary.json"), &b)
	// What the endpoints received may differ: a run judges an answer that
	// two items share once, shards that do not share a cache each judge it.
	ja, jb := a.Run.Calls["judge"], b.Run.Calls["judge"]
	if a.Run.Calls["model"] != b.Run.Calls["model"] || ja.Requests < jb.Requests || ja.Requests > 60 {
		t.Errorf("merged calls %+v, the unsharded run's %+v", a.Run.Calls, b.Run.Calls)
	}
	a.Run.Calls, b.Run.Calls = nil, nil
	if jsonOf(a) != jsonOf(b) {
		t.Errorf("merged summary.json differs:\n%s\nwant\n%s", jsonOf(a), jsonOf(b))
	}
	if stdout, _, code := cli(t, t.Context(), "compare", whole, merged); code != 0 || strings.Contains(stdout, "other items") {
		t.Errorf("the merged run is not comparable with the unsharded one:\n%s", stdout)
	}
	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"missing", shards[:3], "shard 3/4 is missing"},
		{"twice", []string{shards[0], shards[0], shards[1], shards[2]}, "shard 0/4 is given twice"},
		{"not a shard", []string{whole}, "is not a shard"},
	} {
		_, stderr, code := cli(t, t.Context(), append([]string{"merge", "--out", filepath.Join(t.TempDir(), "m")}, tc.dirs...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, want 2 with %q\n%s", tc.name, code, tc.want, stderr)
		}
	}
}

// TestShardAutoRefusesAPartialArray: re-running one task of a Slurm
// array the obvious way (sbatch --array=1) gives SLURM_ARRAY_TASK_ID=1
// and SLURM_ARRAY_TASK_COUNT=1; --shard auto refuses it (exit 2) and asks
// nothing, instead of evaluating shard 0/1, the whole set.
func TestShardAutoRefusesAPartialArray(t *testing.T) {
	srv := fakeServer(t, llmtest.Config{})
	t.Setenv("JOB_COMPLETION_INDEX", "")
	t.Setenv("SLURM_ARRAY_TASK_ID", "1")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "1")
	t.Setenv("SLURM_ARRAY_TASK_MIN", "1")
	t.Setenv("SLURM_ARRAY_TASK_MAX", "1")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, filepath.Join(t.TempDir(), "s"), "--shard", "auto")...)
	if code != 2 || !strings.Contains(stderr, "--shard 1/N") || srv.Requests("model") != 0 {
		t.Errorf("exit %d after %d model requests, want 2 and none, saying --shard 1/N\n%s", code, srv.Requests("model"), stderr)
	}
	_, stderr, code = cli(t, t.Context(), runArgs(srv, filepath.Join(t.TempDir(), "s"), "--shard", "auto", "--shard-count", "4")...)
	if code != 0 {
		t.Errorf("--shard auto --shard-count 4 for task 1: exit %d\n%s", code, stderr)
	}
}
