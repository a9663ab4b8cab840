package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/rubric"
)

// newFlagSet returns a FlagSet that reports errors instead of exiting, and
// prints its usage to w.
func newFlagSet(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	// On a mistake the flag package prints the error, then the synopsis
	// (and parse a pointer to the whole list); -h adds the list (see
	// parse).
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: psveval %s %s\n", name, synopsis)
	}
	return fs
}

// parse parses args. When fs has a "config" flag that names a YAML file,
// every flag not given on the command line is then set from the file, so
// flags override the file. The file's keys are flag names; a list sets a
// repeatable flag several times; a mapping sets key=value flags (--map,
// --model-param) once per key.
//
// Positional arguments may come before, between or after flags.
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(fs.Output(), "\nflags:")
				fs.PrintDefaults()
				return err
			}
			fmt.Fprintf(fs.Output(), "(psveval help %s lists every flag)\n", fs.Name())
			return &printedError{&usageError{err}}
		}
		if fs.NArg() == 0 {
			break
		}
		rest := fs.Args()
		if rest[0] == "--" || len(rest) == len(args) && rest[0] == args[0] && strings.HasPrefix(rest[0], "-") {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parse the positionals back in, so fs.Args returns them.
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return &usageError{err}
	}
	return applyConfig(fs)
}

// applyConfig sets every flag of fs not given on the command line from
// the YAML file its "config" flag names, if any.
func applyConfig(fs *flag.FlagSet) error {
	cfg := fs.Lookup("config")
	if cfg == nil || cfg.Value.String() == "" {
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	b, err := os.ReadFile(cfg.Value.String())
	if err != nil {
		return &usageError{fmt.Errorf("config: %w", err)}
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return &usageError{fmt.Errorf("config %s: %w", cfg.Value, err)}
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := fs.Lookup(k)
		if f == nil || k == "config" {
			return &usageError{fmt.Errorf("config %s: unknown setting %q (settings are the flag names of psveval %s)", cfg.Value, k, fs.Name())}
		}
		if set[k] {
			continue
		}
		_, multi := f.Value.(repeatable)
		switch doc[k].(type) {
		case []any:
			if !multi {
				return usageErrorf("config %s: %s: want one value, got a list (only repeatable settings such as judge-model take lists)", cfg.Value, k)
			}
		case map[string]any:
			if !multi {
				return usageErrorf("config %s: %s: want one value, got a mapping", cfg.Value, k)
			}
		}
		vals, err := configValues(doc[k])
		if err != nil {
			return &usageError{fmt.Errorf("config %s: %s: %w", cfg.Value, k, err)}
		}
		for _, v := range vals {
			if inputPaths[k] || outputPaths[k] {
				if k == "judge-prompt" && !strings.HasSuffix(v, ".tmpl") && !strings.ContainsRune(v, filepath.Separator) {
					// a built-in prompt's name, not a file
				} else if v, err = configPath(cfg.Value.String(), k, v); err != nil {
					return err
				}
			}
			if err := fs.Set(k, v); err != nil {
				if multi {
					return usageErrorf("config %s: %s: %v", cfg.Value, k, err)
				}
				return usageErrorf("config %s: %s: want %s, got %q", cfg.Value, k, kindOf(f), v)
			}
		}
	}
	return nil
}

func configValues(v any) ([]string, error) {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			s, err := configScalar(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]string, 0, len(keys))
		for _, k := range keys {
			s, err := configScalar(x[k])
			if err != nil {
				return nil, err
			}
			out = append(out, k+"="+s)
		}
		return out, nil
	}
	s, err := configScalar(v)
	return []string{s}, err
}

// configScalar renders a YAML value as flag text; objects and lists become
// JSON, which --model-param and --judge-param read.
func configScalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "null", nil
	case map[string]any, []any:
		b, err := json.Marshal(x)
		return string(b), err
	}
	return fmt.Sprint(v), nil
}

// A repeatable flag may be given several times, so a config file may
// give it a list (or, for key=value flags, a mapping).
type repeatable interface{ repeatable() }

func (*listFlag) repeatable()    {}
func (*paramFlag) repeatable()   {}
func (*mappingFlag) repeatable() {}

// kindOf names what a flag takes, for messages: "an integer", "a number".
func kindOf(f *flag.Flag) string {
	if k, ok := f.Value.(interface{ kind() string }); ok {
		return k.kind()
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "a value like " + strconv.Quote(f.DefValue)
	}
	switch g.Get().(type) {
	case int, int64, uint, uint64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "true or false"
	case time.Duration:
		return "a duration such as 90s"
	}
	return "a string"
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// mappingFlag accumulates --map role=column[,role=column...].
type mappingFlag struct{ m dataset.Mapping }

func (f *mappingFlag) String() string {
	if f.m == nil {
		return ""
	}
	return f.m.String()
}

func (f *mappingFlag) Set(s string) error {
	m, err := dataset.ParseMapping(s)
	if err != nil {
		return err
	}
	if f.m == nil {
		f.m = dataset.Mapping{}
	}
	maps.Copy(f.m, m)
	return nil
}

// datasetFlags are the flags that say how to read a dataset.
type datasetFlags struct {
	data, imageRoot, groupBy, rubricFile string
	mapping                              mappingFlag
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
		return usageErrorf("--limit %d: want 0 (all items) or more", d.limit)
	case d.maxImageBytes < 1:
		return usageErrorf("--max-image-bytes %d: want at least 1", d.maxImageBytes)
	case d.maxTextBytes < 1:
		return usageErrorf("--max-text-bytes %d: want at least 1", d.maxTextBytes)
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
		Map: d.mapping.m, ImageRoot: d.imageRoot, SkipBadItems: d.skipBad,
		MaxImageBytes: d.maxImageBytes, MaxTextBytes: d.maxTextBytes, Limit: d.limit, ClusterBy: d.clusterBy,
	}
	if d.groupBy != "" {
		if opts.Map == nil {
			opts.Map = dataset.Mapping{}
		}
		if c, ok := opts.Map[dataset.RoleType]; ok && c != d.groupBy {
			return opts, usageErrorf("--group-by %s conflicts with --map question_type=%s", d.groupBy, c)
		}
		opts.Map[dataset.RoleType] = d.groupBy
	}
	if d.rubricFile != "" {
		r, err := rubric.Load(d.rubricFile)
		if err != nil {
			return opts, &usageError{err}
		}
		opts.Rubric = &r
	}
	switch {
	case d.shard == "auto":
		sh, err := dataset.ShardFromEnv(os.Getenv, d.shardCount)
		if err != nil {
			return opts, usageErrorf("--shard auto: %v", err)
		}
		opts.Shard = sh
	case d.shard != "":
		sh, err := dataset.ParseShard(d.shard)
		if err != nil {
			return opts, usageErrorf("--shard %v", err)
		}
		if d.shardCount > 0 && sh.Count != d.shardCount {
			return opts, usageErrorf("--shard %s with --shard-count %d: give one count", d.shard, d.shardCount)
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
		return nil, usageErrorf("no dataset: give --data FILE")
	}
	opts, err := d.options()
	if err != nil {
		return nil, err
	}
	return dataset.Open(path, opts)
}

// The settings that name files or folders: a config file's relative
// paths resolve against the folder the file is in, as a sweep's run:
// file does, not against the current directory. Inputs must exist.
var (
	inputPaths  = map[string]bool{"data": true, "image-root": true, "rubric": true, "judge-prompt": true}
	outputPaths = map[string]bool{"out": true, "cache": true}
)

// configPath resolves the value v of key k, read from the config file
// cfg, and checks that an input exists, naming the file and key if not.
func configPath(cfg, k, v string) (string, error) {
	if v == "" || filepath.IsAbs(v) {
		return v, nil
	}
	p := filepath.Join(filepath.Dir(cfg), v)
	if inputPaths[k] {
		if _, err := os.Stat(p); err != nil {
			return "", usageErrorf("config %s: %s: %s: %v (relative paths in a config file are relative to its folder)", cfg, k, v, errors.Unwrap(err))
		}
	}
	return p, nil
}

// checkOutDir and checkOutFile refuse, before any work, an output that
// cannot be written (see store.CheckOutDir and store.CheckOutFile), as a
// usage error naming the flag.
func checkOutDir(flagName, dir string) error {
	if err := store.CheckOutDir(dir); err != nil {
		return usageErrorf("%s %s: %v", flagName, dir, err)
	}
	return nil
}

func checkOutFile(flagName, path string) error {
	if err := store.CheckOutFile(path); err != nil {
		return usageErrorf("%s %s: %v", flagName, path, err)
	}
	return nil
}
