package rubric_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psveval/psveval/rubric"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	r := rubric.Default()
	if r.Version != "psv-default-v1" || len(r.Criteria) != 5 {
		t.Fatalf("Default() = %s with %d criteria, want psv-default-v1 with 5", r.Version, len(r.Criteria))
	}
	for _, c := range r.Criteria {
		if c.Points != 1 || c.Dim == "" || c.Description == "" {
			t.Errorf("criterion %+v: want a named binary criterion of one point", c)
		}
	}
	b, err := os.ReadFile("default-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := rubric.Load("default-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Hash != r.Hash || len(r.Hash) != 64 {
		t.Errorf("hash of the embedded rubric %q differs from the file's %q (%d bytes)", r.Hash, loaded.Hash, len(b))
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, tc := range map[string]struct{ content, want string }{
		"no version":  {`{"criteria":[{"dim":"a","points":1,"description":"x"}]}`, `missing "version"`},
		"no criteria": {`{"version":"v","criteria":[]}`, "rubric has no criteria"},
		"unknown key": {`{"version":"v","critera":[]}`, `unknown key "critera"`},
		"list":        {`{"version":"v","criteria":{"dim":"a"}}`, `"criteria" must be a list`},
		"top string":  {`"v"`, `want an object {"version": ..., "criteria": [...]} or a list`},
		"points type": {`[{"dim":"a","score":"one","description":"x"}]`, `criterion 1: "score" must be a whole number, got the string "one"`},
		"fraction":    {`[{"dim":"a","points":0.5,"description":"x"}]`, `criterion 1: "points" must be a whole number, got the number 0.5`},
		"both":        {`[{"dim":"a","points":1,"score":1,"description":"x"}]`, `not both`},
		"no points":   {`[{"dim":"a","description":"x"}]`, `criterion 1: missing "points" (or "score")`},
		"bad key":     {`[{"dim":"a","points":1,"text":"x"}]`, `criterion 1: unknown key "text"`},
		"not object":  {`[["a",1,"x"]]`, `criterion 1: want an object`},
		"syntax":      {"{\n\"version\": \"v\",,\n}", "line 2, column 16"},
		"empty":       {"  ", "the file is empty"},
		"no text":     {`{"version":"v","criteria":[{"dim":"a","points":1,"description":" "}]}`, `criterion 1 ("a") has no description`},
		"all penalty": {`{"version":"v","criteria":[{"dim":"a","points":-2,"description":"x"}]}`, "no criterion with positive points"},
		"not JSON":    {`version: v`, "not valid JSON"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := rubric.Load(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) ||
			strings.Contains(err.Error(), "Go value") || strings.Contains(err.Error(), "unmarshal") {
			t.Errorf("%s: Load = %v, want an error naming %s and containing %q", name, err, path, tc.want)
		}
	}
}

func TestLoadDatasetShape(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	body := "\ufeff" + `[{"dim":"accuracy","score":2,"description":"right"},{"dim":"safety","score":-1,"description":"harm"}]`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := rubric.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []rubric.Criterion{{Dim: "accuracy", Points: 2, Description: "right"}, {Dim: "safety", Points: -1, Description: "harm"}}
	if !slices.Equal(r.Criteria, want) || r.Version != "sha256:"+r.Hash[:12] {
		t.Errorf("Load = %+v (version %s), want %+v with a hash version", r.Criteria, r.Version, want)
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	cs := []rubric.Criterion{{Dim: "accuracy"}, {Dim: "safety"}, {Dim: "accuracy"}, {Dim: ""}, {Dim: " grounding "}}
	got := rubric.Labels(cs)
	want := []string{"accuracy#1", "safety", "accuracy#3", "criterion#4", "grounding"}
	if !slices.Equal(got, want) {
		t.Errorf("Labels = %q, want %q", got, want)
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	five := []rubric.Criterion{{Points: 1}, {Points: 1}, {Points: 1}, {Points: 1}, {Points: 1}}
	weighted := []rubric.Criterion{{Points: 3}, {Points: 1}, {Points: -2}}
	tests := []struct {
		name              string
		rule              rubric.Rule
		cs                []rubric.Criterion
		met               []*bool
		score             float64
		allPassed, scored bool
	}{
		{"points 3 of 5", rubric.RulePoints, five, []*bool{new(true), new(true), new(false), new(true), new(false)}, 0.6, false, true},
		{"all 3 of 5", rubric.RuleAll, five, []*bool{new(true), new(true), new(false), new(true), new(false)}, 0, false, true},
		{"mean 3 of 5", rubric.RuleMean, five, []*bool{new(true), new(true), new(false), new(true), new(false)}, 0.6, false, true},
		{"all met", rubric.RuleAll, five, []*bool{new(true), new(true), new(true), new(true), new(true)}, 1, true, true},
		{"points weighted", rubric.RulePoints, weighted, []*bool{new(true), new(false), new(false)}, 0.75, false, true},
		{"penalty met subtracts", rubric.RulePoints, weighted, []*bool{new(true), new(true), new(true)}, 0.5, false, true},
		{"penalty clipped at 0", rubric.RulePoints, weighted, []*bool{new(false), new(true), new(true)}, 0, false, true},
		{"penalty avoided passes", rubric.RuleAll, weighted, []*bool{new(true), new(true), new(false)}, 1, true, true},
		{"penalty met fails all", rubric.RuleAll, weighted, []*bool{new(true), new(true), new(true)}, 0, false, true},
		{"mean counts avoided penalty", rubric.RuleMean, weighted, []*bool{new(false), new(true), new(false)}, 2.0 / 3, false, true},
		{"unscorable criterion", rubric.RulePoints, five, []*bool{new(true), nil, new(true), new(true), new(true)}, 0, false, false},
		{"unscorable under all", rubric.RuleAll, five, []*bool{new(true), new(true), new(true), new(true), nil}, 0, false, false},
	}
	for _, tc := range tests {
		score, all, scored := tc.rule.Score(tc.cs, tc.met)
		if score != tc.score || all != tc.allPassed || scored != tc.scored {
			t.Errorf("%s: Score = %v, %v, %v; want %v, %v, %v", tc.name, score, all, scored, tc.score, tc.allPassed, tc.scored)
		}
	}
	if _, err := rubric.ParseRule("HealthBench"); err == nil {
		t.Error("ParseRule accepted an unknown rule")
	}
	if r, err := rubric.ParseRule(" ALL "); err != nil || r != rubric.RuleAll {
		t.Errorf("ParseRule(ALL) = %q, %v", r, err)
	}
}
