package pipeline_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
)

// TestRepeat judges the same answers three times through the library:
// every repeat is a finished run directory that asked the judge afresh,
// the noise is written beside them, and a second, independent
// measurement against a fresh server gives the same figures, however
// the requests interleaved.
func TestRepeat(t *testing.T) {
	t.Parallel()
	measure := func() ([]byte, int64) {
		srv := llmtest.New(t, llmtest.Config{JudgeFlip: 0.2})
		job := newJob(t, srv, 24, "")
		noise, err := pipeline.Repeat(t.Context(), job, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		if noise.Repeats != 3 || len(noise.Columns) == 0 {
			t.Fatalf("noise: %d repeats, %d columns", noise.Repeats, len(noise.Columns))
		}
		for r := 1; r <= 3; r++ {
			if !rundir.Finished(rundir.RepeatDir(job.Dir, r)) {
				t.Errorf("repeat %d did not finish", r)
			}
		}
		b, err := os.ReadFile(filepath.Join(job.Dir, rundir.NoiseFile))
		if err != nil {
			t.Fatal(err)
		}
		return b, srv.Requests("judge")
	}
	a, na := measure()
	b, nb := measure()
	if na != 3*24 || nb != 3*24 {
		t.Errorf("judge requests %d and %d, want %d: every repeat asks the judge", na, nb, 3*24)
	}
	if string(a) != string(b) {
		t.Errorf("two measurements of the same judge differ:\n%s\n%s", a, b)
	}
	if _, err := pipeline.Repeat(t.Context(), newJob(t, llmtest.New(t, llmtest.Config{}), 2, ""), 1, nil); err == nil {
		t.Error("Repeat(k=1) = nil error, want a refusal")
	}
}
