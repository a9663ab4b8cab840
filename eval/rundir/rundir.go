package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
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
		return m, &UnfinishedError{Dir: dir, Args: m.Args}
	}
	return m, nil
}

// An UnfinishedError is a run directory whose run has not finished. Args
// are the recorded (redacted) arguments of the command that started it.
type UnfinishedError struct {
	Dir  string
	Args []string
}

func (e *UnfinishedError) Error() string {
	msg := e.Dir + ": " + ErrNoResults.Error()
	if len(e.Args) > 0 {
		msg = e.Dir + ": the run has not finished; finish it with: psveval " + ShellJoin(e.Args)
	}
	return msg
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
		return nil, &UnfinishedError{Dir: dir, Args: m.Args}
	}
	if err != nil {
		return nil, err
	}
	agg := stats.NewAggregator(opts)
	dec := liteDecoder{meta: opts.By != "" && opts.By != "question_type", intern: map[string]string{}, seen: map[string]bool{}}
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
		if err := dec.decode(&res, l); err != nil || res.ID == "" {
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
			rd.Scores[res.ID] = stats.Scored{Group: agg.GroupOf(&res), Score: *res.Score}
		}
	}
	if dec.meta && !dec.seen[opts.By] {
		cols := append([]string{"question_type"}, slices.Sorted(maps.Keys(dec.seen))...)
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

// A liteDecoder reads results.jsonl lines for reports.
type liteDecoder struct {
	// meta reads the meta object, needed only to group by a meta field.
	meta bool
	// intern shares the strings that repeat on every line.
	intern map[string]string
	// seen holds the meta keys met, when meta is read.
	seen map[string]bool
}

func (d *liteDecoder) str(raw []byte) (string, error) {
	if s, ok := d.intern[string(raw)]; ok { // no allocation for the lookup
		return s, nil
	}
	s, err := jsonscan.String(raw)
	if err == nil && len(d.intern) < 1024 {
		d.intern[string(raw)] = s
	}
	return s, err
}

// decode reads into r the members of a results.jsonl line that reports use,
// skipping the long texts without decoding them. The whole line is
// validated first, skipped members included: a line encoding/json would
// refuse is refused.
func (d *liteDecoder) decode(r *eval.Result, line []byte) error {
	if !json.Valid(line) {
		return errors.New("not valid JSON")
	}
	return jsonscan.Fields(line, func(key []byte) bool {
		switch string(key) {
		case "question", "reference", "answer", "error", "explanation", "latency_ms", "judge_latency_ms":
			return false
		case "meta":
			return d.meta
		}
		return true
	}, func(key, raw []byte) error {
		var err error
		switch string(key) {
		case "id":
			r.ID, err = jsonscan.String(raw)
		case "question_type":
			r.QuestionType, err = d.str(raw)
		case "finish_reason":
			r.FinishReason, err = d.str(raw)
		case "status":
			r.Status, err = d.str(raw)
		case "unscorable":
			r.Unscorable, err = d.str(raw)
		case "judge_served":
			r.JudgeServed, err = d.str(raw)
		case "score":
			r.Score, err = rawFloat(raw)
		case "all_met":
			r.AllMet, err = rawBool(raw)
		case "meta":
			err = jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
				s, err := jsonscan.String(v)
				if err != nil || s == "" {
					return err
				}
				if r.Meta == nil {
					r.Meta = map[string]string{}
				}
				if d.seen != nil && !d.seen[string(k)] {
					d.seen[string(k)] = true
				}
				r.Meta[string(k)] = s
				return nil
			})
		case "usage":
			err = jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
				u := &r.Usage.Model
				if string(k) == "judge" {
					u = &r.Usage.Judge
				}
				return decodeUsage(u, v)
			})
		case "judges":
			err = json.Unmarshal(raw, &r.Judges)
		case "criteria":
			err = decodeCriteria(r, d, raw)
		}
		return err
	})
}

func decodeUsage(u *eval.Usage, raw []byte) error {
	return jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
		n, err := strconv.ParseInt(string(v), 10, 64)
		switch string(k) {
		case "prompt_tokens":
			u.Prompt = n
		case "completion_tokens":
			u.Completion = n
		default:
			return nil
		}
		return err
	})
}

func rawFloat(raw []byte) (*float64, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, jsonscan.ErrSyntax
	}
	return &f, nil
}

func rawBool(raw []byte) (*bool, error) {
	switch string(raw) {
	case "null":
		return nil, nil
	case "true", "false":
		b := raw[0] == 't'
		return &b, nil
	}
	return nil, jsonscan.ErrSyntax
}

// decodeCriteria reads the criteria array, skipping explanations.
func decodeCriteria(r *eval.Result, d *liteDecoder, raw []byte) error {
	i := jsonscan.SkipSpace(raw, 0)
	if string(raw[i:]) == "null" {
		return nil
	}
	if i >= len(raw) || raw[i] != '[' {
		return jsonscan.ErrSyntax
	}
	i = jsonscan.SkipSpace(raw, i+1)
	r.Criteria = []eval.ResultCriterion{}
	for i < len(raw) && raw[i] != ']' {
		end, err := jsonscan.SkipValue(raw, i)
		if err != nil {
			return err
		}
		var c eval.ResultCriterion
		err = jsonscan.Fields(raw[i:end], func(key []byte) bool { return string(key) != "explanation" }, func(key, v []byte) error {
			var err error
			switch string(key) {
			case "dim":
				c.Dim, err = d.str(v)
			case "points":
				c.Points, err = strconv.ParseInt(string(v), 10, 64)
			case "met":
				c.Met, err = rawBool(v)
			}
			return err
		})
		if err != nil {
			return err
		}
		r.Criteria = append(r.Criteria, c)
		i = jsonscan.SkipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = jsonscan.SkipSpace(raw, i+1)
		}
	}
	return nil
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
