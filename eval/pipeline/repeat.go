package pipeline

import (
	"context"
	"fmt"
	"slices"

	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// Repeat judges the answers of job k times to measure the judge's noise.
// Each repeat is an ordinary run directory under job.Dir
// ([rundir.RepeatDir]), judged without the cache and with the judges'
// fingerprints marked by the repeat, so no repeat reuses another's
// verdicts. Only the first repeat runs the job's preflight. It then
// measures the noise across the repeats, writes it to job.Dir's
// noise.json and returns it. run runs each repeat's job (nil: [Job.Run]):
// a caller passes its own to show progress or print each repeat.
func Repeat(ctx context.Context, job *Job, k int, run func(context.Context, *Job) (*Outcome, error)) (*stats.JudgeNoise, error) {
	if k < 2 {
		return nil, fmt.Errorf("repeat %d times: the judge's noise needs at least 2 repeats", k)
	}
	if run == nil {
		run = func(ctx context.Context, j *Job) (*Outcome, error) { return j.Run(ctx) }
	}
	lock, err := rundir.LockDir(job.Dir, "psveval judge --repeat")
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	var verdicts []map[string]map[string]*bool
	var sums []*stats.Summary
	var scores []map[string]stats.Scored
	var items []string
	for r := 1; r <= k; r++ {
		rj := job.repeat(r)
		if _, err := run(ctx, rj); err != nil {
			return nil, err
		}
		v, err := rundir.ReadVerdicts(rj.Dir)
		if err != nil {
			return nil, err
		}
		rd, err := rundir.LoadRun(rj.Dir, stats.AggregateOptions{Resamples: stats.DefaultResamples, Seed: stats.DefaultSeed})
		if err != nil {
			return nil, err
		}
		if r == 1 {
			items = v.Items
		}
		verdicts, sums, scores = append(verdicts, v.Met), append(sums, rd.Summary), append(scores, rd.Scores)
	}
	noise := stats.Noise(items, verdicts, sums, scores)
	if err := rundir.WriteNoise(job.Dir, noise); err != nil {
		return nil, err
	}
	return noise, nil
}

// repeat returns the job of the r-th repeat (from 1).
func (j *Job) repeat(r int) *Job {
	rj := *j
	rj.Dir = rundir.RepeatDir(j.Dir, r)
	rj.Cache = nil
	rj.Preflight = j.Preflight && r == 1
	rj.Progress = &Progress{}
	rj.Judges = slices.Clone(j.Judges)
	var m rundir.Manifest
	if j.Manifest != nil {
		m = *j.Manifest
	}
	m.Judges = slices.Clone(m.Judges)
	for i := range rj.Judges {
		rj.Judges[i].Fingerprint += fmt.Sprintf("#repeat-%d", r)
		if i < len(m.Judges) {
			m.Judges[i].Fingerprint = rj.Judges[i].Fingerprint
		}
	}
	rj.Manifest = &m
	return &rj
}
