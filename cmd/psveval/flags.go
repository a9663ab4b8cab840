package main

import (
	"flag"
	"os"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/rubric"
)

// datasetFlags are the flags that say how to read a dataset.
type datasetFlags struct {
	data, imageRoot, groupBy, rubricFile string
	mapping                              cmdline.Mapping
	skipBad                              bool
	maxImageBytes                        int64
	maxTextBytes, limit                  int
	shard                                string
	shardCount                           int
	clusterBy                            string
}

// validate checks the dataset flags against their documented ranges.
func (d *datasetFlags) validate() error {
	switch {
	case d.limit < 0:
		return cmdline.Usagef("--limit %d: want 0 (all items) or more", d.limit)
	case d.maxImageBytes < 1:
		return cmdline.Usagef("--max-image-bytes %d: want at least 1", d.maxImageBytes)
	case d.maxTextBytes < 1:
		return cmdline.Usagef("--max-text-bytes %d: want at least 1", d.maxTextBytes)
	}
	return nil
}

func (d *datasetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", "", "dataset `file`: Hugging Face layout .parquet or .jsonl")
	fs.Var(&d.mapping, "map", "column mapping `role=column,...` (roles: id, question, answer, question_type, image, rubric, modality, main_topic, source, med_terms)")
	fs.StringVar(&d.groupBy, "group-by", "", "report by this `column` instead of question_type (e.g. modality, source)")
	fs.StringVar(&d.imageRoot, "image-root", "", "`folder` that image paths are relative to and must stay inside (default: the dataset's folder)")
	fs.BoolVar(&d.skipBad, "skip-bad-items", false, "skip and list items whose image is missing or does not decode, instead of failing")
	fs.Int64Var(&d.maxImageBytes, "max-image-bytes", dataset.DefaultMaxImageBytes, "refuse images larger than this many `bytes`")
	fs.IntVar(&d.maxTextBytes, "max-text-bytes", dataset.DefaultMaxTextBytes, "refuse items whose question or reference answer is longer than this many `bytes`")
	fs.StringVar(&d.shard, "shard", "", "evaluate one `i/n` share of the items (0 ≤ i < n; type-balanced, by a hash of the id), or auto: the index from JOB_COMPLETION_INDEX (with --shard-count) or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT; join the shards with psveval merge")
	fs.IntVar(&d.shardCount, "shard-count", 0, "the number of shards, for --shard auto: required under a Kubernetes Indexed Job, and under a Slurm array that is not the full range 0…N−1")
	fs.IntVar(&d.limit, "limit", 0, "evaluate only the first `N` items (0: all)")
	fs.StringVar(&d.rubricFile, "rubric", "", "default rubric `file` for items without one (default: the built-in psv-default-v1)")
	fs.StringVar(&d.clusterBy, "cluster-by", "image", "what items share, which intervals resample together: image (items on the same image bytes), none (every item alone), or a dataset `column` such as a patient or study id")
}

// options returns the dataset options the flags describe.
func (d *datasetFlags) options() (dataset.Options, error) {
	opts := dataset.Options{
		Map: d.mapping.M, ImageRoot: d.imageRoot, SkipBadItems: d.skipBad,
		MaxImageBytes: d.maxImageBytes, MaxTextBytes: d.maxTextBytes, Limit: d.limit, ClusterBy: d.clusterBy,
	}
	if d.groupBy != "" {
		if opts.Map == nil {
			opts.Map = dataset.Mapping{}
		}
		if c, ok := opts.Map[dataset.RoleType]; ok && c != d.groupBy {
			return opts, cmdline.Usagef("--group-by %s conflicts with --map question_type=%s", d.groupBy, c)
		}
		opts.Map[dataset.RoleType] = d.groupBy
	}
	if d.rubricFile != "" {
		r, err := rubric.Load(d.rubricFile)
		if err != nil {
			return opts, cmdline.Usage(err)
		}
		opts.Rubric = &r
	}
	switch {
	case d.shard == "auto":
		sh, err := dataset.ShardFromEnv(os.Getenv, d.shardCount)
		if err != nil {
			return opts, cmdline.Usagef("--shard auto: %v", err)
		}
		opts.Shard = sh
	case d.shard != "":
		sh, err := dataset.ParseShard(d.shard)
		if err != nil {
			return opts, cmdline.Usagef("--shard %v", err)
		}
		if d.shardCount > 0 && sh.Count != d.shardCount {
			return opts, cmdline.Usagef("--shard %s with --shard-count %d: give one count", d.shard, d.shardCount)
		}
		opts.Shard = sh
	}
	return opts, nil
}

// open opens the dataset named by --data (or path, when --data is unset).
func (d *datasetFlags) open(path string) (*dataset.Dataset, error) {
	if d.data != "" {
		path = d.data
	}
	if path == "" {
		return nil, cmdline.Usagef("no dataset: give --data FILE")
	}
	opts, err := d.options()
	if err != nil {
		return nil, err
	}
	return dataset.Open(path, opts)
}
