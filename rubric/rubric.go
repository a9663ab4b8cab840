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
	"os"
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

// Load reads a rubric from a JSON file of the same shape as default-v1.json:
// {"version": "...", "criteria": [{"dim", "points", "description"}, ...]}.
func Load(path string) (Rubric, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Rubric{}, fmt.Errorf("rubric: %w", err)
	}
	r, err := parse(b)
	if err != nil {
		return Rubric{}, fmt.Errorf("rubric %s: %w", path, err)
	}
	return r, nil
}

func parse(b []byte) (Rubric, error) {
	var r Rubric
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var file struct {
		Rubric
		Note string `json:"note"`
	}
	if err := dec.Decode(&file); err != nil {
		return Rubric{}, fmt.Errorf("invalid rubric JSON: %w", err)
	}
	r = file.Rubric
	if r.Version == "" {
		return Rubric{}, errors.New(`missing "version"`)
	}
	if err := Validate(r.Criteria); err != nil {
		return Rubric{}, err
	}
	sum := sha256.Sum256(b)
	r.Hash = hex.EncodeToString(sum[:])
	return r, nil
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
