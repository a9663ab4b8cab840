// Package sweep describes λ sweeps: a spec of points, each a model at a
// value of one axis (MOFT's merge weight λ, say), served at a URL or by a
// command that psveval starts and stops; the sweep directory, which holds
// one ordinary run directory per point; and the servers it started, so
// that none outlives a crash.
package sweep

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
)

// A Spec is a sweep: its name, the axis its points vary, the run settings
// they share (a psveval run config file) and the points.
type Spec struct {
	Name   string  `yaml:"name" json:"name"`
	Axis   string  `yaml:"axis" json:"axis"`
	Run    string  `yaml:"run" json:"run"`
	Points []Point `yaml:"points" json:"points"`
}

// A Point is one model of the sweep: its value on the axis, the model
// name to request, and either the URL that serves it or the command that
// serves it ({port} and {model} are substituted).
type Point struct {
	Value    float64 `yaml:"value" json:"value"`
	Model    string  `yaml:"model" json:"model"`
	Serve    string  `yaml:"serve,omitempty" json:"serve,omitempty"`
	ModelURL string  `yaml:"model-url,omitempty" json:"model_url,omitempty"`
}

// Label is the point's name in tables: "lambda=0.5".
func (s *Spec) Label(p Point) string {
	return s.Axis + "=" + strconv.FormatFloat(p.Value, 'f', -1, 64)
}

// Dir is the point's run directory under the sweep directory.
func (s *Spec) Dir(sweepDir string, p Point) string {
	return filepath.Join(sweepDir, s.Label(p))
}

// Sorted returns the points in value order, the order of every table and
// plot.
func (s *Spec) Sorted() []Point {
	points := slices.Clone(s.Points)
	slices.SortFunc(points, func(a, b Point) int { return cmp.Compare(a.Value, b.Value) })
	return points
}

// SpecFile is the copy of the spec a sweep directory keeps.
const SpecFile = rundir.SweepSpecFile

// Load reads and checks a spec. The run file is resolved against the
// spec's folder. Errors name the file and the point.
func Load(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, &eval.InputError{File: path, Err: fmt.Errorf("not a sweep spec: %v", err)}
	}
	if err := s.check(); err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	if !filepath.IsAbs(s.Run) {
		s.Run = filepath.Join(filepath.Dir(path), s.Run)
	}
	return &s, nil
}

func (s *Spec) check() error {
	switch {
	case strings.TrimSpace(s.Axis) == "":
		s.Axis = "lambda"
	case strings.ContainsAny(s.Axis, `/\ =`):
		return fmt.Errorf("axis %q: want a plain name such as lambda", s.Axis)
	}
	if s.Run == "" {
		return errors.New(`no "run": name the run config file the points share (the keys of psveval run --config)`)
	}
	if len(s.Points) < 2 {
		return errors.New("a sweep needs two points or more")
	}
	seen := map[float64]int{}
	for i, p := range s.Points {
		where := fmt.Sprintf("point %d (value %g)", i+1, p.Value)
		switch {
		case math.IsNaN(p.Value) || math.IsInf(p.Value, 0):
			return fmt.Errorf("%s: the value must be a finite number", where)
		case p.Model == "":
			return fmt.Errorf("%s: no model name", where)
		case (p.Serve == "") == (p.ModelURL == ""):
			return fmt.Errorf("%s: give either serve (a command that serves the model) or model-url, not both and not neither", where)
		}
		if prev, dup := seen[p.Value]; dup {
			return fmt.Errorf("%s: the value is also point %d's", where, prev)
		}
		seen[p.Value] = i + 1
		if p.ModelURL != "" {
			if err := llm.CheckURL(p.ModelURL); err != nil {
				return fmt.Errorf("%s: model-url: %v", where, err)
			}
		}
		if p.Serve != "" && !strings.Contains(p.Serve, "{port}") {
			return fmt.Errorf("%s: the serve command must take the port psveval gives it: put {port} where the port goes", where)
		}
	}
	return nil
}

// Read reads the spec a sweep directory keeps, or reports false when the
// directory is not a sweep's.
func Read(dir string) (*Spec, bool, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, false, nil // not a directory: not a sweep's (the caller says what it is)
	}
	b, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, false, fmt.Errorf("%s: %w", filepath.Join(dir, SpecFile), err)
	}
	return &s, true, nil
}

// Write keeps the spec in the sweep directory.
func (s *Spec) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return store.WriteJSON(filepath.Join(dir, SpecFile), s)
}
