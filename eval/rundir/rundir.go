package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/internal/lines"
	"github.com/psveval/psveval/eval/stats"
)

// A RunDir is a finished run directory loaded for reporting: its manifest,
// its summary recomputed from results.jsonl, and each scored item's score
// for pairing.
type RunDir struct {
	Dir      string
	Manifest *Manifest // nil when the directory has none
	Summary  *stats.Summary
	// Scores maps the id of every scored item to its group and score.
	Scores map[string]stats.Scored
}

// ErrNoResults reports a run directory whose run has not finished.
var ErrNoResults = errors.New("the run has not finished (run the same command again to finish it)")

// ErrNotRunDir reports a path that is not a run directory: missing, a
// file, or a folder without manifest.json.
var ErrNotRunDir = errors.New("not a run directory")

// Open checks that dir is a run directory and reads its manifest.
// Errors wrap [ErrNotRunDir] for a path that is not one, and
// [ErrNoResults] for a run that has not finished (its manifest's Args
// give the command that finishes it).
func Open(dir string) (*Manifest, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: %w: it does not exist", dir, ErrNotRunDir)
	case err != nil:
		return nil, err
	case !st.IsDir():
		return nil, fmt.Errorf("%s: %w: it is a file (give the --out directory of psveval run)", dir, ErrNotRunDir)
	}
	m, err := ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: it has no manifest.json (give the --out directory of psveval run)", dir, ErrNotRunDir)
	}
	if err != nil {
		return nil, err
	}
	if m.Finished == "" {
		return m, &UnfinishedError{Dir: dir, Args: m.Args, Command: m.ResumeCommand()}
	}
	return m, nil
}

// An UnfinishedError is a run directory whose run has not finished. Args
// are the recorded (redacted) arguments of the command that started it.
type UnfinishedError struct {
	Dir  string
	Args []string
	// Command is the command line that finishes the run, pasted as it is
	// (see Manifest.ResumeCommand), or "".
	Command string
}

func (e *UnfinishedError) Error() string {
	msg := e.Dir + ": " + ErrNoResults.Error()
	if e.Command != "" {
		msg = e.Dir + ": the run has not finished; finish it with: " + e.Command
	}
	return msg
}

// commands are psveval's commands that write a run directory, as a
// manifest's Args may begin with them.
var commands = []string{"run", "judge", "merge", "sweep"}

// ResumeCommand returns the command line that finishes the run, as it
// would be typed: "psveval run ARGS" (a manifest's Args lack the command
// for psveval run), with a --shard auto replaced by the shard the run
// recorded, since auto means nothing outside the job array that set it.
// It is "" when the manifest records no arguments.
func (m *Manifest) ResumeCommand() string {
	if len(m.Args) == 0 {
		return ""
	}
	args := slices.Clone(m.Args)
	if !slices.Contains(commands, args[0]) {
		args = append([]string{"run"}, args...)
	}
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case m.Dataset.Shard != "" && (a == "--shard" || a == "-shard") && i+1 < len(args) && args[i+1] == "auto":
			out = append(out, a, m.Dataset.Shard)
			i++
		case m.Dataset.Shard != "" && (a == "--shard=auto" || a == "-shard=auto"):
			out = append(out, "--shard="+m.Dataset.Shard)
		case m.Dataset.Shard != "" && (a == "--shard-count" || a == "-shard-count") && i+1 < len(args):
			i++ // the shard says the count
		case m.Dataset.Shard != "" && (strings.HasPrefix(a, "--shard-count=") || strings.HasPrefix(a, "-shard-count=")):
		default:
			out = append(out, a)
		}
	}
	return "psveval " + ShellJoin(out)
}

// Unwrap returns [ErrNoResults].
func (e *UnfinishedError) Unwrap() error { return ErrNoResults }

// ShellJoin quotes args for a POSIX shell where they need it.
func ShellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@", r))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// A ByError reports a --by column that no result of a run has.
type ByError struct {
	Dir, By string
	Columns []string // the columns the run's results have
}

func (e *ByError) Error() string {
	return fmt.Sprintf("%s: no result has a %q column to group by; the columns there are: %s", e.Dir, e.By, strings.Join(e.Columns, ", "))
}

// LoadRun reads dir's manifest and results.jsonl, aggregating as opts
// says. Every line is validated as JSON; the long text fields are not
// kept, so loading many runs stays fast.
func LoadRun(dir string, opts stats.AggregateOptions) (*RunDir, error) {
	m, err := Open(dir)
	if err != nil {
		return nil, err
	}
	rd := &RunDir{Dir: dir, Manifest: m, Scores: map[string]stats.Scored{}}
	path := filepath.Join(dir, ResultsFile)
	// One read of the whole file: results.jsonl is about 1.3 KB an item,
	// so 12 MB for 9,264 items, and line by line reads cost more.
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &UnfinishedError{Dir: dir, Args: m.Args, Command: m.ResumeCommand()}
	}
	if err != nil {
		return nil, err
	}
	agg := stats.NewAggregator(opts)
	dec := lines.NewResultDecoder(opts.By != "" && opts.By != "question_type")
	for line := 1; len(data) > 0; line++ {
		var l []byte
		if before, after, ok := bytes.Cut(data, []byte{'\n'}); ok {
			l, data = before, after
		} else {
			l, data = data, nil
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var res eval.Result
		if err := dec.Decode(&res, l); err != nil || res.ID == "" {
			if err == nil {
				err = errors.New("result has no id")
			}
			return nil, &eval.InputError{File: path, Pos: fmt.Sprintf("line %d", line), Err: fmt.Errorf("not a result: %w", err)}
		}
		if _, dup := rd.Scores[res.ID]; dup {
			return nil, &eval.InputError{File: path, Pos: fmt.Sprintf("line %d", line), ID: res.ID, Err: errors.New("duplicate result id")}
		}
		agg.Add(res)
		if res.Status == eval.StatusOK && res.Score != nil {
			rd.Scores[res.ID] = stats.Scored{Group: agg.GroupOf(&res), Score: *res.Score, Cluster: res.Cluster}
		}
	}
	if seen := dec.MetaKeys(); dec.Meta && !seen[opts.By] {
		cols := append([]string{"question_type"}, slices.Sorted(maps.Keys(seen))...)
		return nil, &ByError{Dir: dir, By: opts.By, Columns: cols}
	}
	if rd.Summary, err = agg.Summary(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m := rd.Manifest; m != nil && m.Dataset.Items > 0 && rd.Summary.NItems != m.Dataset.Items {
		return nil, fmt.Errorf("%s: %w: %d results for the manifest's %d items", path, stats.ErrInconsistent, rd.Summary.NItems, m.Dataset.Items)
	}
	return rd, nil
}

// Label returns the run's label: its served model id, else its requested
// model name, else the directory's name.
func (rd *RunDir) Label() string {
	if l := rd.Manifest.Label(); l != "" {
		return l
	}
	return filepath.Base(rd.Dir)
}

// Finished reports whether dir holds a finished run: its manifest says
// so and its summary is written.
func Finished(dir string) bool {
	m, err := Open(dir)
	if err != nil || m.Finished == "" {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, SummaryFile))
	return err == nil
}
