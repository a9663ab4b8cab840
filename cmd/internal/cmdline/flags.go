package cmdline

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/psveval/psveval/eval/store"
)

// NewFlagSet returns a FlagSet that reports errors instead of exiting, and
// prints its usage to w.
func NewFlagSet(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	// On a mistake the flag package prints the error, then the synopsis
	// (and parse a pointer to the whole list); -h adds the list (see
	// Parse).
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: psveval %s %s\n", name, synopsis)
	}
	return fs
}

// Parse parses args. When fs has a "config" flag that names a YAML file,
// every flag not given on the command line is then set from the file, so
// flags override the file. The file's keys are flag names; a list sets a
// repeatable flag several times; a mapping sets key=value flags (--map,
// --model-param) once per key.
//
// Positional arguments may come before, between or after flags.
func Parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(fs.Output(), "\nflags:")
				fs.PrintDefaults()
				return err
			}
			fmt.Fprintf(fs.Output(), "(psveval help %s lists every flag)\n", fs.Name())
			return Printed(Usage(err))
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
		return Usage(err)
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
		return Usage(fmt.Errorf("config: %w", err))
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Usage(fmt.Errorf("config %s: %w", cfg.Value, err))
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		f := fs.Lookup(k)
		if f == nil || k == "config" {
			return Usage(fmt.Errorf("config %s: unknown setting %q (settings are the flag names of psveval %s)", cfg.Value, k, fs.Name()))
		}
		if set[k] {
			continue
		}
		_, multi := f.Value.(repeatable)
		switch doc[k].(type) {
		case []any:
			if !multi {
				return Usagef("config %s: %s: want one value, got a list (only repeatable settings such as judge-model take lists)", cfg.Value, k)
			}
		case map[string]any:
			if !multi {
				return Usagef("config %s: %s: want one value, got a mapping", cfg.Value, k)
			}
		}
		vals, err := configValues(doc[k])
		if err != nil {
			return Usage(fmt.Errorf("config %s: %s: %w", cfg.Value, k, err))
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
					return Usagef("config %s: %s: %v", cfg.Value, k, err)
				}
				return Usagef("config %s: %s: want %s, got %q", cfg.Value, k, kindOf(f), v)
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
		out := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
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

func (*List) repeatable()    {}
func (*Params) repeatable()  {}
func (*Mapping) repeatable() {}

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
			return "", Usagef("config %s: %s: %s: %v (relative paths in a config file are relative to its folder)", cfg, k, v, errors.Unwrap(err))
		}
	}
	return p, nil
}

// CheckOutDir and CheckOutFile refuse, before any work, an output that
// cannot be written (see store.CheckOutDir and store.CheckOutFile), as a
// usage error naming the flag.
func CheckOutDir(flagName, dir string) error {
	if err := store.CheckOutDir(dir); err != nil {
		return Usagef("%s %s: %v", flagName, dir, err)
	}
	return nil
}

func CheckOutFile(flagName, path string) error {
	if err := store.CheckOutFile(path); err != nil {
		return Usagef("%s %s: %v", flagName, path, err)
	}
	return nil
}
