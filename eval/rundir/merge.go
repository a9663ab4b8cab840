package rundir

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/rubric"
)

// MergeOptions says how to merge the shards of a run.
type MergeOptions struct {
	// ImageRoot is the folder the dataset's image paths are relative to,
	// if the dataset moved since the shards ran ("" for its folder).
	ImageRoot string
	// Rubric is the default rubric the shards were run with; nil for the
	// built-in one.
	Rubric *rubric.Rubric
	// Args are recorded as the merged manifest's command line.
	Args []string
	// AllowMixedVersions merges shards that different psveval versions or
	// revisions built; by default that is a *MergeError.
	AllowMixedVersions bool
}

// A Merged is the run directory that Merge wrote.
type Merged struct {
	Dir      string
	Manifest *Manifest
	Summary  *stats.Summary
	Shards   int
	Items    int
}

// A MergeError reports shards that cannot be merged: not shards, shards
// of different runs, a shard missing or given twice, or items missing or
// duplicated. Nothing is written.
type MergeError struct{ Err error }

func (e *MergeError) Error() string { return e.Err.Error() }
func (e *MergeError) Unwrap() error { return e.Err }

func mergeErrorf(format string, args ...any) error {
	return &MergeError{fmt.Errorf(format, args...)}
}

// Merge joins the finished shards of one run, in dirs, into a new run
// directory out: results.jsonl in dataset order, the journals
// concatenated, summary.json with the shards' call counts added up, and a
// manifest that records the shards. It checks that dirs are every shard
// of one run, each once, run with the same settings, and that every item
// of the dataset is in exactly one shard. It returns a *MergeError for
// shards that do not make one run, an error wrapping [ErrNoResults] for
// an unfinished shard, and an error wrapping [ErrNotRunDir] for a path
// that is not a run directory; on any error out is left as it was, or
// removed if Merge created it.
func Merge(dirs []string, out string, opts MergeOptions) (*Merged, error) {
	if len(dirs) == 0 {
		return nil, mergeErrorf("no shard directories to merge")
	}
	ms := make([]*Manifest, len(dirs))
	for i, d := range dirs {
		m, err := Open(d)
		if err != nil {
			return nil, err
		}
		// A shard whose results.jsonl is gone has not finished, whatever
		// its manifest says: say so before anything is read or written.
		if _, err := os.Stat(filepath.Join(d, ResultsFile)); err != nil {
			return nil, &UnfinishedError{Dir: d, Args: m.Args, Command: m.ResumeCommand()}
		}
		ms[i] = m
	}
	if err := checkShards(dirs, ms); err != nil {
		return nil, err
	}
	if !opts.AllowMixedVersions {
		for i, m := range ms[1:] {
			if a, b := ms[0].Tool, m.Tool; a.Version != b.Version || a.Revision != b.Revision {
				return nil, mergeErrorf("%s was built by psveval %s (revision %s), %s by %s (revision %s): shards of one run come from one build; rerun the odd shard, or pass --allow-mixed-versions",
					dirs[0], a.Version, a.Revision, dirs[i+1], b.Version, b.Revision)
			}
		}
	}
	// The full dataset, as the shards read it but unsharded: it orders the
	// results and proves that every item is covered exactly once.
	dopts := ms[0].DatasetOptions(opts.ImageRoot)
	dopts.Rubric = opts.Rubric
	ds, err := dataset.Open(ms[0].Dataset.Path, dopts)
	if err != nil {
		return nil, err
	}
	if ds.Rubric.Hash != ms[0].Dataset.DefaultRubric.SHA256 {
		return nil, mergeErrorf("the shards were run with default rubric %s (sha256 %s): give that file as --rubric", ms[0].Dataset.DefaultRubric.Version, ShortHash(ms[0].Dataset.DefaultRubric.SHA256))
	}
	lines, from, err := shardResults(dirs)
	if err != nil {
		return nil, err
	}
	created := !exists(out)
	lock, err := LockDir(out, "psveval merge")
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	if entries, _ := os.ReadDir(out); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() != LockFile }) {
		if !created {
			os.Remove(filepath.Join(out, LockFile))
		}
		return nil, mergeErrorf("%s is not empty: merge into a new directory", out)
	}
	mg, err := writeMerged(dirs, out, ms, ds, lines, from, opts)
	if err != nil {
		os.RemoveAll(out)
		return nil, err
	}
	return mg, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// shardResults reads every shard's result lines by item id, refusing an
// item found in two shards.
func shardResults(dirs []string) (lines map[string][]byte, from map[string]string, err error) {
	lines, from = map[string][]byte{}, map[string]string{}
	for _, d := range dirs {
		err := ReadResultLines(filepath.Join(d, ResultsFile), func(b []byte) error {
			var r struct{ ID string }
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			if prev, dup := from[r.ID]; dup {
				return mergeErrorf("item %q is in two shards, %s and %s: these are not shards of one run", r.ID, prev, d)
			}
			from[r.ID], lines[r.ID] = d, slices.Clone(b)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return lines, from, nil
}

// writeMerged writes the merged run's files into out.
func writeMerged(dirs []string, out string, ms []*Manifest, ds *dataset.Dataset, lines map[string][]byte, from map[string]string, opts MergeOptions) (*Merged, error) {
	agg := stats.NewAggregator(stats.AggregateOptions{})
	fp, err := dataset.FingerprintOf(ds)
	if err != nil {
		return nil, err
	}
	err = store.WriteFileFunc(filepath.Join(out, ResultsFile), func(w io.Writer) error {
		for it, err := range ds.All() {
			if err != nil {
				return err
			}
			b, ok := lines[it.ID]
			if !ok {
				return mergeErrorf("item %q (%s) is in no shard: a shard is missing or unfinished", it.ID, it.Pos)
			}
			delete(lines, it.ID)
			var r eval.Result
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			agg.Add(r)
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(lines)) {
		return nil, mergeErrorf("item %q of %s is not in the dataset %s", id, from[id], ds.Path)
	}
	for _, f := range []string{AnswersFile, JudgmentsFile} {
		if err := concat(filepath.Join(out, f), dirs, f); err != nil {
			return nil, err
		}
	}
	s, err := agg.Summary()
	if err != nil {
		return nil, err
	}
	s.Run = mergedRunInfo(dirs)
	s.Run.Skipped, s.Run.NSkipped = fp.Skipped, len(fp.Skipped)
	if mp, jp, err := ms[0].Prices.Parse(); err == nil {
		s.Cost = stats.CostOf(s.Usage, mp, jp)
	}
	if err := WriteSummary(out, s); err != nil {
		return nil, err
	}
	m := mergedManifest(dirs, ms, NewDatasetInfo(ds, fp), opts.Args)
	if err := WriteManifest(out, m); err != nil {
		return nil, err
	}
	return &Merged{Dir: out, Manifest: m, Summary: s, Shards: len(dirs), Items: fp.Items}, nil
}

// mergedManifest is the first shard's manifest over the whole dataset,
// with every shard's history, the earliest creation time, and the shards
// recorded.
func mergedManifest(dirs []string, ms []*Manifest, di DatasetInfo, args []string) *Manifest {
	m := *ms[0]
	m.Dataset = di
	m.Dataset.MergedFrom = nil
	for _, d := range dirs {
		abs, _ := filepath.Abs(d)
		m.Dataset.MergedFrom = append(m.Dataset.MergedFrom, abs)
	}
	m.History = nil
	for _, sm := range ms {
		m.History = append(m.History, sm.History...)
		if sm.Created < m.Created {
			m.Created = sm.Created
		}
	}
	m.Finished = time.Now().UTC().Format(time.RFC3339)
	m.Args = append([]string{"merge"}, args...)
	return &m
}

// checkShards checks that dirs are the n shards of one run: every shard
// index from 0 to n-1 once, and every setting the same but the shard.
func checkShards(dirs []string, ms []*Manifest) error {
	n := -1
	seen := map[int]string{}
	for i, m := range ms {
		sh, err := dataset.ParseShard(m.Dataset.Shard)
		if m.Dataset.Shard == "" || err != nil {
			return mergeErrorf("%s is not a shard (run with --shard i/n)", dirs[i])
		}
		if n >= 0 && sh.Count != n {
			return mergeErrorf("%s is shard %s, but %s is one of %d", dirs[i], m.Dataset.Shard, dirs[0], n)
		}
		n = sh.Count
		if prev, dup := seen[sh.Index]; dup {
			return mergeErrorf("shard %s is given twice: %s and %s", m.Dataset.Shard, prev, dirs[i])
		}
		seen[sh.Index] = dirs[i]
		var diffs []string
		for _, d := range ms[0].Diff(m) {
			if !strings.HasPrefix(d, "dataset.shard:") && !strings.HasPrefix(d, "dataset.fingerprint:") {
				diffs = append(diffs, d)
			}
		}
		if len(diffs) > 0 {
			return mergeErrorf("%s was run with other settings than %s:\n  %s", dirs[i], dirs[0], strings.Join(diffs, "\n  "))
		}
	}
	for i := range n {
		if _, ok := seen[i]; !ok {
			return mergeErrorf("shard %d/%d is missing", i, n)
		}
	}
	return nil
}

// mergedRunInfo adds up the shards' call counts and cache savings.
func mergedRunInfo(dirs []string) *stats.RunInfo {
	ri := &stats.RunInfo{Calls: map[string]eval.CallCounts{}, Retries: map[string]int64{}, ServedModels: map[string]string{}}
	for _, d := range dirs {
		run := ReadRunInfo(d)
		if run == nil {
			continue
		}
		for k, c := range run.Calls {
			t := ri.Calls[k]
			t.Add(c)
			ri.Calls[k] = t
		}
		for k, v := range run.Retries {
			ri.Retries[k] += v
		}
		ri.Repairs += run.Repairs
		ri.Cached += run.Cached
		for k, v := range run.ServedModels {
			if ri.ServedModels[k] == "" {
				ri.ServedModels[k] = v
			}
		}
	}
	return ri
}

// concat writes the files named name of dirs, one after the other, to
// path.
func concat(path string, dirs []string, name string) error {
	return store.WriteFileFunc(path, func(w io.Writer) error {
		for _, d := range dirs {
			f, err := os.Open(filepath.Join(d, name))
			if err != nil {
				return err
			}
			_, err = io.Copy(w, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
}
