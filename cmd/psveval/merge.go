package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/pipeline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/reports"
	"github.com/psveval/psveval/rubric"
)

// mergeCmd joins the finished shards of one run into an ordinary run
// directory.
func mergeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("merge", "SHARD_DIR... --out RUN_DIR", stderr)
	out := fs.String("out", "", "the merged run `directory` (new, or empty)")
	imageRoot := fs.String("image-root", "", "`folder` the dataset's image paths are relative to, if it moved")
	rubricFile := fs.String("rubric", "", "the default rubric `file` the shards were run with, if not the built-in one")
	if err := parse(fs, args); err != nil {
		return err
	}
	dirs := fs.Args()
	if len(dirs) == 0 || *out == "" {
		return usageErrorf("merge takes the shard run directories and --out DIR")
	}
	ms := make([]*rundir.Manifest, len(dirs))
	for i, d := range dirs {
		m, err := rundir.OpenRunDir(d)
		if err != nil {
			return reportErr(err)
		}
		if m.Finished == "" {
			return &incompleteError{fmt.Errorf("%s has not finished: resume it (%s) before merging", d, rundir.ShellJoin(m.Args))}
		}
		ms[i] = m
	}
	if err := checkShards(dirs, ms); err != nil {
		return err
	}
	// The full dataset, as the shards read it but unsharded: it orders the
	// results and proves that every item is covered exactly once.
	opts := runDatasetOptions(ms[0], *imageRoot)
	if *rubricFile != "" {
		r, err := rubric.Load(*rubricFile)
		if err != nil {
			return &usageError{err}
		}
		opts.Rubric = &r
	}
	ds, err := dataset.Open(ms[0].Dataset.Path, opts)
	if err != nil {
		return err
	}
	if ds.Rubric.Hash != ms[0].Dataset.DefaultRubric.SHA256 {
		return usageErrorf("the shards were run with default rubric %s (sha256 %s): give that file as --rubric", ms[0].Dataset.DefaultRubric.Version, rundir.ShortHash(ms[0].Dataset.DefaultRubric.SHA256))
	}
	lines := map[string][]byte{}
	from := map[string]string{}
	for _, d := range dirs {
		err := rundir.ReadResultLines(filepath.Join(d, rundir.ResultsFile), func(b []byte) error {
			var r struct{ ID string }
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			if prev, dup := from[r.ID]; dup {
				return usageErrorf("item %q is in two shards, %s and %s: these are not shards of one run", r.ID, prev, d)
			}
			from[r.ID], lines[r.ID] = d, slices.Clone(b)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if entries, _ := os.ReadDir(*out); len(entries) > 0 {
		return usageErrorf("%s is not empty: merge into a new directory", *out)
	}
	agg := stats.NewAggregator(stats.AggregateOptions{})
	fp, err := dataset.FingerprintOf(ds)
	if err != nil {
		return err
	}
	err = store.WriteFileFunc(filepath.Join(*out, rundir.ResultsFile), func(w io.Writer) error {
		for it, err := range ds.All() {
			if err != nil {
				return err
			}
			b, ok := lines[it.ID]
			if !ok {
				return usageErrorf("item %q (%s) is in no shard: a shard is missing or unfinished", it.ID, it.Pos)
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
		os.RemoveAll(*out)
		return err
	}
	if len(lines) > 0 {
		os.RemoveAll(*out)
		for id := range lines {
			return usageErrorf("item %q of %s is not in the dataset %s", id, from[id], ds.Path)
		}
	}
	for _, f := range []string{rundir.AnswersFile, rundir.JudgmentsFile} {
		if err := concat(filepath.Join(*out, f), dirs, f); err != nil {
			return err
		}
	}
	s, err := agg.Summary()
	if err != nil {
		return err
	}
	s.Run = mergedRunInfo(dirs)
	s.Run.Skipped, s.Run.NSkipped = fp.Skipped, len(fp.Skipped)
	if err := store.WriteJSON(filepath.Join(*out, rundir.SummaryFile), s); err != nil {
		return err
	}
	m := *ms[0]
	m.Dataset = pipeline.DatasetInfo(ds, fp)
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
	m.Args = append([]string{"merge"}, redactArgs(args)...)
	if err := rundir.WriteManifest(*out, &m); err != nil {
		return err
	}
	run := reports.Run{Label: m.Model.ServedModel, Summary: s, Manifest: &m}
	if run.Label == "" {
		run.Label = m.Model.Model
	}
	var md bytes.Buffer
	if err := (reports.Markdown{}).Report(&md, []reports.Run{run}, reports.Options{CI: true, Title: "psveval: " + run.Label}); err != nil {
		return err
	}
	if err := store.WriteFileAtomic(filepath.Join(*out, rundir.ReportFile), md.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "merged %s (%s) into %s\n", eval.Nouns(len(dirs), "shard"), eval.Nouns(fp.Items, "item"), *out)
	return (reports.Text{}).Report(stdout, []reports.Run{run}, reports.Options{CI: true, Width: termWidth(stdout)})
}

// checkShards checks that dirs are the n shards of one run: every shard
// index from 0 to n-1 once, and every setting the same but the shard.
func checkShards(dirs []string, ms []*rundir.Manifest) error {
	n := -1
	seen := map[int]string{}
	for i, m := range ms {
		sh, err := dataset.ParseShard(m.Dataset.Shard)
		if m.Dataset.Shard == "" || err != nil {
			return usageErrorf("%s is not a shard (run with --shard i/n)", dirs[i])
		}
		if n >= 0 && sh.Count != n {
			return usageErrorf("%s is shard %s, but %s is one of %d", dirs[i], m.Dataset.Shard, dirs[0], n)
		}
		n = sh.Count
		if prev, dup := seen[sh.Index]; dup {
			return usageErrorf("shard %s is given twice: %s and %s", m.Dataset.Shard, prev, dirs[i])
		}
		seen[sh.Index] = dirs[i]
		var diffs []string
		for _, d := range ms[0].Diff(m) {
			if !strings.HasPrefix(d, "dataset.shard:") && !strings.HasPrefix(d, "dataset.fingerprint:") {
				diffs = append(diffs, d)
			}
		}
		if len(diffs) > 0 {
			return usageErrorf("%s was run with other settings than %s:\n  %s", dirs[i], dirs[0], strings.Join(diffs, "\n  "))
		}
	}
	for i := range n {
		if _, ok := seen[i]; !ok {
			return usageErrorf("shard %d/%d is missing", i, n)
		}
	}
	return nil
}

// mergedRunInfo adds up the shards' call counts and cache savings.
func mergedRunInfo(dirs []string) *stats.RunInfo {
	ri := &stats.RunInfo{Calls: map[string]eval.CallCounts{}, Retries: map[string]int64{}, ServedModels: map[string]string{}}
	var cost float64
	costs := false
	for _, d := range dirs {
		run := rundir.ReadRunInfo(d)
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
		if run.CostUSD != nil {
			cost += *run.CostUSD
			costs = true
		}
	}
	if costs {
		ri.CostUSD = &cost
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
