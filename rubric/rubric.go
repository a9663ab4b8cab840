// Package rubric holds rubrics, their criteria, the scoring rules that turn
// per-criterion verdicts into an item score, and the judge prompt templates.
//
// It is a leaf package: it does no I/O beyond loading a rubric or template
// file, and imports nothing else of psveval. Every rubric and template has a
// version and a content hash, which run manifests record so that a score can
// always be traced to the exact text that produced it.
package rubric

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// A Criterion is one rubric line: a dimension name, the points it carries,
// and the text the judge checks the answer against. Points may be negative
// for undesirable behaviour (HealthBench style): such a criterion is "met"
// when the answer shows the behaviour, which costs points.
type Criterion struct {
	Dim         string `json:"dim"`
	Points      int64  `json:"points"`
	Description string `json:"description"`
}

// Passed reports whether a criterion whose verdict is met counts in the
// answer's favour: met for a positive criterion, not met for a negative one.
func (c Criterion) Passed(met bool) bool {
	if c.Points < 0 {
		return !met
	}
	return met
}

// A Rubric is a versioned list of criteria. Hash is the hex SHA-256 of the
// file the rubric was loaded from (or of its canonical JSON when built in
// memory), so two rubrics with equal hashes are the same rubric.
type Rubric struct {
	Version  string      `json:"version"`
	Criteria []Criterion `json:"criteria"`
	Hash     string      `json:"-"`
}

//go:embed default-v1.json
var defaultV1 []byte

// Default returns the rubric given to items that carry none: five binary
// criteria of one point each, from the versioned file default-v1.json. The
// returned rubric is a fresh copy; the caller may modify it.
func Default() Rubric {
	r, err := parse(defaultV1)
	if err != nil {
		panic("rubric: embedded default rubric is invalid: " + err.Error())
	}
	return r
}

// Load reads a rubric from a JSON file in one of two shapes:
//
//   - the rubric shape of default-v1.json: {"version": "...", "note":
//     "...", "criteria": [{"dim", "points", "description"}, ...]};
//   - the dataset's own shape, a list of {"dim", "score", "description"}
//     (the PSV2026 rubric column), whose version is then "sha256:" and the
//     first 12 hex digits of the file's hash.
//
// A criterion may give its points as "points" or "score". Errors name the
// file, the criterion and the key, and say what was expected.
func Load(path string) (Rubric, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Rubric{}, fmt.Errorf("rubric: %w", err)
	}
	r, err := parse(b)
	if err != nil {
		return Rubric{}, fmt.Errorf("rubric %s: %w (the format is under \"Rubric files\" in README.md)", path, err)
	}
	return r, nil
}

func parse(b []byte) (Rubric, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	body := bytes.TrimSpace(b)
	if len(body) == 0 {
		return Rubric{}, errors.New("the file is empty")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return Rubric{}, fmt.Errorf("not valid JSON: %s", syntaxWhere(body, err))
	}
	sum := sha256.Sum256(b)
	r := Rubric{Hash: hex.EncodeToString(sum[:])}
	var list []any
	switch v := v.(type) {
	case []any:
		r.Version = "sha256:" + r.Hash[:12]
		list = v
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if k != "version" && k != "note" && k != "criteria" {
				return Rubric{}, fmt.Errorf("unknown key %q: a rubric object has \"version\", \"criteria\" and an optional \"note\"", k)
			}
		}
		version, ok := v["version"].(string)
		if !ok || strings.TrimSpace(version) == "" {
			return Rubric{}, fmt.Errorf(`missing "version": want a non-empty string, got %s`, describe(v["version"]))
		}
		r.Version = version
		if list, ok = v["criteria"].([]any); !ok {
			return Rubric{}, fmt.Errorf(`"criteria" must be a list of {"dim", "points", "description"} objects, got %s`, describe(v["criteria"]))
		}
	default:
		return Rubric{}, fmt.Errorf(`want an object {"version": ..., "criteria": [...]} or a list of {"dim", "score", "description"} criteria, got %s`, describe(v))
	}
	for i, e := range list {
		c, err := criterion(e)
		if err != nil {
			return Rubric{}, fmt.Errorf("criterion %d: %w", i+1, err)
		}
		r.Criteria = append(r.Criteria, c)
	}
	if err := Validate(r.Criteria); err != nil {
		return Rubric{}, err
	}
	return r, nil
}

// criterion reads one criterion object, with its points under "points" or
// "score".
func criterion(e any) (Criterion, error) {
	m, ok := e.(map[string]any)
	if !ok {
		return Criterion{}, fmt.Errorf(`want an object {"dim", "points", "description"}, got %s`, describe(e))
	}
	var c Criterion
	var pointsKey string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		switch k {
		case "dim", "description":
			s, ok := v.(string)
			if !ok {
				return Criterion{}, fmt.Errorf("%q must be a string, got %s", k, describe(v))
			}
			if k == "dim" {
				c.Dim = s
			} else {
				c.Description = s
			}
		case "points", "score":
			if pointsKey != "" {
				return Criterion{}, errors.New(`give "points" or "score", not both`)
			}
			pointsKey = k
			f, ok := v.(float64)
			if str, isStr := v.(string); isStr {
				// A whole number written as a string ("1") is read as the
				// dataset's rubric column reads it: one rule for both.
				var err error
				f, err = strconv.ParseFloat(strings.TrimSpace(str), 64)
				ok = err == nil
			}
			if !ok || f != math.Trunc(f) || math.Abs(f) > 1e9 {
				return Criterion{}, fmt.Errorf("%q must be a whole number, got %s", k, describe(v))
			}
			c.Points = int64(f)
		default:
			return Criterion{}, fmt.Errorf(`unknown key %q: a criterion has "dim", "points" (or "score") and "description"`, k)
		}
	}
	if pointsKey == "" {
		return Criterion{}, errors.New(`missing "points" (or "score"): the whole number of points the criterion carries`)
	}
	return c, nil
}

// describe names a decoded JSON value for an error message: its type, and
// the value itself where short.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return "the string " + strconv.Quote(v)
	case float64:
		return "the number " + strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return "the boolean " + strconv.FormatBool(v)
	case []any:
		return "a list"
	default:
		return "an object"
	}
}

// syntaxWhere turns a JSON syntax error into "line L, column C: what".
func syntaxWhere(b []byte, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err.Error()
	}
	off := min(int(se.Offset), len(b))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := max(off-1-bytes.LastIndexByte(b[:max(off-1, 0)], '\n'), 1) // Offset counts the offending byte
	return fmt.Sprintf("line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
}

// Validate checks a list of criteria: at least one, each with a description,
// and at least one with positive points, so that every scoring rule is
// defined. Dimensions may repeat; [Labels] makes them unique for the judge.
func Validate(cs []Criterion) error {
	if len(cs) == 0 {
		return errors.New("rubric has no criteria")
	}
	positive := false
	for i, c := range cs {
		if strings.TrimSpace(c.Description) == "" {
			return fmt.Errorf("criterion %d (%q) has no description", i+1, c.Dim)
		}
		if c.Points > 0 {
			positive = true
		}
	}
	if !positive {
		return errors.New("rubric has no criterion with positive points, so no score is defined")
	}
	return nil
}

// Labels returns one unique, non-empty label per criterion, in order: the
// criterion's dim where no other dim equals it ignoring case, otherwise
// the dim (or "criterion") followed by "#" and the criterion's 1-based
// position, with a further ".2", ".3", ... should that collide with
// another label. Labels are unique even ignoring case, so a judge that
// changes their case still names one criterion, and they round-trip: the
// label at position i always names criterion i. The judge is shown these
// labels and must answer with them, which is what lets verdicts be
// matched to criteria exactly once.
func Labels(cs []Criterion) []string {
	key := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	count := make(map[string]int, len(cs))
	for _, c := range cs {
		count[key(c.Dim)]++
	}
	labels := make([]string, len(cs))
	taken := make(map[string]bool, len(cs))
	for i, c := range cs {
		if d := strings.TrimSpace(c.Dim); d != "" && count[key(d)] == 1 {
			labels[i] = d
			taken[key(d)] = true
		}
	}
	for i, c := range cs {
		if labels[i] != "" {
			continue
		}
		base := cmp.Or(strings.TrimSpace(c.Dim), "criterion") + "#" + strconv.Itoa(i+1)
		l := base
		for n := 2; taken[key(l)]; n++ {
			l = base + "." + strconv.Itoa(n)
		}
		labels[i] = l
		taken[key(l)] = true
	}
	return labels
}
