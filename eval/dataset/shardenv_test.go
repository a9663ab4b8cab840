package dataset

import (
	"strings"
	"testing"
)

// TestShardFromEnv: --shard auto takes the index as given and the count
// only from --shard-count or a full 0…N−1 Slurm array; it refuses every
// other array instead of guessing.
func TestShardFromEnv(t *testing.T) {
	t.Parallel()
	slurm := func(id, lo, hi, n, step string) map[string]string {
		return map[string]string{"SLURM_ARRAY_TASK_ID": id, "SLURM_ARRAY_TASK_MIN": lo, "SLURM_ARRAY_TASK_MAX": hi, "SLURM_ARRAY_TASK_COUNT": n, "SLURM_ARRAY_TASK_STEP": step}
	}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		count int
		want  string // the shard, or a part of the error
	}{
		{"full array", slurm("2", "0", "3", "4", "1"), 0, "2/4"},
		{"full array, count given", slurm("2", "0", "3", "4", "1"), 8, "2/8"},
		{"one task re-run (--array=1)", slurm("1", "1", "1", "1", "1"), 0, "give it, as --shard 1/N"},
		{"one task re-run, count given", slurm("1", "1", "1", "1", "1"), 4, "1/4"},
		{"a list (--array=1,3)", slurm("3", "1", "3", "2", ""), 0, "not the full range"},
		{"a step (--array=0-6:2)", slurm("4", "0", "6", "4", "2"), 0, "not the full range"},
		{"a range from 1 (--array=1-4)", slurm("3", "1", "4", "4", "1"), 0, "not the full range"},
		{"only id and count", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "1"}, 0, "not the full range"},
		{"id past the count", slurm("5", "0", "7", "8", "1"), 4, "not a shard of 4"},
		{"Indexed Job", map[string]string{"JOB_COMPLETION_INDEX": "1"}, 8, "1/8"},
		{"Indexed Job without a count", map[string]string{"JOB_COMPLETION_INDEX": "1"}, 0, "--shard-count"},
		{"no job array", map[string]string{}, 4, "give --shard i/n"},
	} {
		sh, err := ShardFromEnv(func(k string) string { return tc.env[k] }, tc.count)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = sh.String()
		}
		if err == nil && got != tc.want || err != nil && !strings.Contains(got, tc.want) {
			t.Errorf("%s: ShardFromEnv = %q, want %q", tc.name, got, tc.want)
		}
	}
}
