package cmdline

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// settings is a small command's flags: one of each kind Parse handles.
type settings struct {
	config, data, out string
	n                 int
	timeout           time.Duration
	conc              int
	auto              bool
	urls              List
	params            Params
	price             Price
}

func newSettings(t *testing.T) (*flag.FlagSet, *settings, *bytes.Buffer) {
	t.Helper()
	var s settings
	var w bytes.Buffer
	fs := NewFlagSet("run", "[flags] DIR", &w)
	fs.StringVar(&s.config, "config", "", "")
	fs.StringVar(&s.data, "data", "", "")
	fs.StringVar(&s.out, "out", "", "")
	fs.IntVar(&s.n, "n", 3, "")
	fs.DurationVar(&s.timeout, "call-timeout", time.Second, "")
	fs.Var(Conc{N: &s.conc, Auto: &s.auto}, "concurrency", "")
	fs.Var(&s.urls, "model-url", "")
	fs.Var(&s.params, "model-param", "")
	fs.Var(&s.price, "judge-price", "")
	return fs, &s, &w
}

// writeConfig writes a config file into a folder of its own and returns
// its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "psveval.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParseConfig: a config file sets every flag the command line does
// not; lists repeat a flag, mappings set key=value flags, relative paths
// resolve against the file's folder, and positionals may stand anywhere.
func TestParseConfig(t *testing.T) {
	cfg := writeConfig(t, `
data: data.jsonl
out: runs/a
n: 9
call-timeout: 90s
concurrency: auto
model-url: [http://a/v1, http://b/v1]
model-param: {top_k: -1, stop: ["\n"]}
judge-price: input=0.28,output=0.42
`)
	fs, s, _ := newSettings(t)
	if err := Parse(fs, []string{"first", "--config", cfg, "--n", "4", "second"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(cfg)
	switch {
	case s.data != filepath.Join(dir, "data.jsonl") || s.out != filepath.Join(dir, "runs/a"):
		t.Errorf("paths = %q, %q: want them under %s", s.data, s.out, dir)
	case s.n != 4:
		t.Errorf("n = %d: the command line's 4 should win over the file's 9", s.n)
	case s.timeout != 90*time.Second || !s.auto:
		t.Errorf("call-timeout %v, concurrency auto %v", s.timeout, s.auto)
	case strings.Join(s.urls, " ") != "http://a/v1 http://b/v1":
		t.Errorf("model-url = %q", s.urls)
	case s.params.String() != `stop=["\n"],top_k=-1`:
		t.Errorf("model-param = %s", s.params.String())
	case s.price.P.IsZero():
		t.Errorf("judge-price unset")
	case strings.Join(fs.Args(), " ") != "first second":
		t.Errorf("positionals = %q", fs.Args())
	}
	if got := s.params.Apply(map[string]any{"top_k": 20, "seed": 0}); got["top_k"] != float64(-1) || got["seed"] != 0 {
		t.Errorf("Apply = %v", got)
	}
}

// TestParseConfigErrors: each mistake in a config file is a usage error
// that names the file, the setting, and what it wants.
func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"colour: blue\n", `unknown setting "colour" (settings are the flag names of psveval run)`},
		{"n: [1, 2]\n", "n: want one value, got a list"},
		{"n: many\n", `n: want an integer, got "many"`},
		{"concurrency: lots\n", `concurrency: want an integer or auto, got "lots"`},
		{"call-timeout: soon\n", `want a duration such as 90s, got "soon"`},
		{"data: missing.jsonl\n", "data: missing.jsonl: no such file or directory (relative paths in a config file are relative to its folder)"},
		{"model-param: {x: 1}\nmodel-param2: 1\n", `unknown setting "model-param2"`},
		{"n: [\n", "config "},
	} {
		fs, _, _ := newSettings(t)
		cfg := writeConfig(t, tc.text)
		err := Parse(fs, []string{"--config", cfg})
		if _, ok := errors.AsType[*UsageError](err); !ok || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), cfg) {
			t.Errorf("config %q: %v; want a usage error naming %s and saying %q", tc.text, err, cfg, tc.want)
		}
	}
}

// TestParseFlagErrors: a bad flag is printed once by the flag package,
// with the synopsis and a pointer to the full list, and comes back as a
// printed usage error, so main does not print it again.
func TestParseFlagErrors(t *testing.T) {
	fs, _, w := newSettings(t)
	err := Parse(fs, []string{"--model-param", "x={bad"})
	if _, ok := errors.AsType[*UsageError](err); !ok || !AlreadyPrinted(err) {
		t.Fatalf("Parse = %v: want a usage error, printed", err)
	}
	out := w.String()
	for _, want := range []string{`x: the value "{bad" is not valid JSON`, "usage: psveval run [flags] DIR", "(psveval help run lists every flag)"} {
		if !strings.Contains(out, want) {
			t.Errorf("printed %q, want %q in it", out, want)
		}
	}
	fs, _, w = newSettings(t)
	if err := Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(w.String(), "-model-url") {
		t.Errorf("-h: %v, printed %q; want ErrHelp and the flag list", err, w.String())
	}
}

// TestWidth: --width wins, then $COLUMNS; a buffer is no terminal, and
// messages to it wrap only at a known width.
func TestWidth(t *testing.T) {
	var b bytes.Buffer
	t.Setenv("COLUMNS", "")
	if got := TextWidth(0, &b); got != 100 {
		t.Errorf("TextWidth(0, buffer) = %d, want the default 100", got)
	}
	if got := TextWidth(55, &b); got != 55 {
		t.Errorf("TextWidth(55, buffer) = %d", got)
	}
	Sayf(&b, "%s", strings.Repeat("word ", 30))
	if strings.Count(b.String(), "\n") != 1 {
		t.Errorf("unwrapped message = %q: want one line where no width is known", b.String())
	}
	t.Setenv("COLUMNS", "40")
	b.Reset()
	Sayf(&b, "%s", strings.Repeat("word ", 30))
	for l := range strings.Lines(b.String()) {
		if len(strings.TrimSuffix(l, "\n")) > 40 {
			t.Errorf("line %q is wider than $COLUMNS 40", l)
		}
	}
}
