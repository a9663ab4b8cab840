package pipeline

import (
	"cmp"
	"context"
	"fmt"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/rubric"
)

// SourceDataset opens the dataset the source run (manifest m) read, as it
// read it: from data if it moved (else the manifest's path), with images
// relative to imageRoot if they moved, and r as the default rubric when
// given.
func SourceDataset(m *rundir.Manifest, data, imageRoot string, r *rubric.Rubric) (*dataset.Dataset, error) {
	opts := m.DatasetOptions(imageRoot)
	opts.Rubric = r
	return dataset.Open(cmp.Or(data, m.Dataset.Path), opts)
}

// Rejudge makes j judge the answers of the run in src again: they are
// copied into j's directory before it starts, and the model is never
// asked (an item without an answer there is an error of that item).
func (j *Job) Rejudge(src string) {
	j.Model = eval.ModelFunc(func(ctx context.Context, it eval.Item) (eval.Answer, error) {
		return eval.Answer{}, fmt.Errorf("item %q has no answer in the source run %s (psveval judge asks no model)", it.ID, src)
	})
	j.Seed = func(dir string) error { return rundir.CopyAnswers(src, dir) }
}
