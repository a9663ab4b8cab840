package main

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/psveval/psveval/eval/llmtest"
)

// TestEightyColumns runs the commands that print tables or messages at
// 80 columns (--width 80, and COLUMNS=80 for run's messages): no line is
// wider, but a single word longer than the width (a path), which cannot
// be cut.
func TestEightyColumns(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	srv := fakeServer(t, llmtest.Config{})
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	check := func(name, text string) {
		t.Helper()
		for l := range strings.Lines(text) {
			l = strings.TrimRight(l, "\n")
			if utf8.RuneCountInString(l) > 80 && strings.Contains(strings.TrimSpace(l), " ") {
				t.Errorf("%s: a line of %d columns:\n%s", name, utf8.RuneCountInString(l), l)
			}
		}
	}
	other := fakeServer(t, llmtest.Config{Seed: 5})
	for i, out := range []string{a, b} {
		s := srv
		if i == 1 {
			s = other
		}
		stdout, stderr, code := cli(t, t.Context(), runArgs(s, out)...)
		if code != 0 {
			t.Fatalf("run: exit %d\n%s", code, stderr)
		}
		check("run stdout", stdout)
		check("run stderr", stderr)
	}
	labels := filepath.Join(dir, "labels.jsonl")
	var lb strings.Builder
	for _, r := range readResults(t, a) {
		for _, c := range r.Criteria {
			if c.Met != nil {
				lb.WriteString(`{"id":"` + r.ID + `","dim":"` + c.Dim + `","met":` + map[bool]string{true: "true", false: "false"}[*c.Met] + "}\n")
			}
		}
	}
	writeFile(t, dir, "labels.jsonl", lb.String())
	for _, args := range [][]string{
		{"report", "--width", "80", "--ci", a, b},
		{"report", "--width", "80", "--paper", a},
		{"report", "--width", "80", "--dims", a, b},
		{"compare", "--width", "80", a, b},
		{"gate", "--width", "80", "--baseline", a, "--candidate", b, "--min-n", "5"},
		{"agree", "--width", "80", a, b},
		{"audit", "--width", "80", "--labels", labels, a},
		{"report", "--width", "80", "--calibrate", labels, "--min-labelled", "2", a},
		{"plan", "items", "--width", "80", "--delta", "5", a, b},
		{"inspect", fixture},
		{"judge", a, "--out", filepath.Join(dir, "noise"), "--repeat", "2", "--progress", "none", "--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge},
	} {
		stdout, stderr, code := cli(t, t.Context(), args...)
		if code == 2 || code == 3 {
			t.Errorf("%s: exit %d\n%s", args[0], code, stderr)
		}
		check(strings.Join(args[:2], " "), stdout+stderr)
	}
}
