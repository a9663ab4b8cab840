package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

func summaryOf(t *testing.T, seed uint64) (*stats.Summary, map[string]stats.Scored) {
	t.Helper()
	agg := stats.NewAggregator(stats.AggregateOptions{Resamples: 200, Seed: 1})
	scores := map[string]stats.Scored{}
	for _, r := range evaltest.RandomResults(20, 0.6, seed) {
		agg.Add(r)
		scores[r.ID] = stats.Scored{Group: agg.GroupOf(&r), Score: *r.Score}
	}
	s, err := agg.Summary()
	if err != nil {
		t.Fatal(err)
	}
	return s, scores
}

// TestReportsRenderTheirFormats: every report is a value that renders
// itself by format name, and refuses a format it lacks with a
// *FormatError that names those it has.
func TestReportsRenderTheirFormats(t *testing.T) {
	t.Parallel()
	a, sa := summaryOf(t, 1)
	b, sb := summaryOf(t, 2)
	runs := []Run{{Label: "a", Summary: a}, {Label: "b", Summary: b}}
	cmp := stats.Compare(sa, sb, stats.CompareOptions{Resamples: 200, Seed: 1, Thresholds: stats.DefaultThresholds})
	sweep := &SweepReport{Name: "s", Axis: "lambda", Values: []float64{0, 1}, Runs: runs,
		Best: stats.BestOf([]float64{0, 1}, []map[string]stats.Scored{sa, sb}, 200, 1), Steps: []*stats.Comparison{cmp}}
	noise := &stats.JudgeNoise{Repeats: 2}
	for _, tc := range []struct {
		name    string
		r       Report
		formats []string
	}{
		{"table", &TableReport{Runs: runs}, []string{"text", "markdown", "latex", "csv", "json"}},
		{"comparison", &ComparisonReport{Base: "a", Cand: "b", C: cmp}, []string{"text", "markdown", "json"}},
		{"sweep", sweep, []string{"text", "markdown", "json"}},
		{"agreement", &AgreementReport{Title: "t"}, []string{"text", "json"}},
		{"noise", &NoiseReport{Noise: noise}, []string{"text", "json"}},
		{"flips", &FlipsReport{Flips: []rundir.Flip{}}, []string{"text", "json"}},
	} {
		for _, f := range tc.formats {
			var buf bytes.Buffer
			if err := tc.r.Render(&buf, f); err != nil || buf.Len() == 0 {
				t.Errorf("%s: Render(%s) = %v, %d bytes", tc.name, f, err, buf.Len())
			}
			if f == "json" && !json.Valid(buf.Bytes()) {
				t.Errorf("%s: Render(json) is not JSON:\n%s", tc.name, buf.String())
			}
		}
		err := tc.r.Render(&bytes.Buffer{}, "pdf")
		if fe, ok := errors.AsType[*FormatError](err); !ok || strings.Join(fe.Want, ",") != strings.Join(tc.formats, ",") {
			t.Errorf("%s: Render(pdf) = %v, want a FormatError listing %v", tc.name, err, tc.formats)
		}
	}
	// The sweep's markdown and JSON hold what analysis.json holds.
	var md, js bytes.Buffer
	if err := sweep.Render(&md, "markdown"); err != nil || !strings.Contains(md.String(), "best lambda per column") || !strings.Contains(md.String(), "| 0 → 1 |") {
		t.Errorf("sweep markdown lacks the best values or the steps:\n%s", md.String())
	}
	var got struct {
		Best  []stats.BestColumn  `json:"best"`
		Steps []*stats.Comparison `json:"steps"`
	}
	if err := sweep.Render(&js, "json"); err != nil || json.Unmarshal(js.Bytes(), &got) != nil || len(got.Best) == 0 || len(got.Steps) != 1 || len(got.Best[0].Shares) == 0 {
		t.Errorf("sweep json lacks the best values, their shares or the steps:\n%s", js.String())
	}
}

// TestPaperWarnsOfMissingTypes: --paper's Δ rows say when a run scored
// no item of some of the paper's six types.
func TestPaperWarnsOfMissingTypes(t *testing.T) {
	t.Parallel()
	agg := stats.NewAggregator(stats.AggregateOptions{Resamples: -1})
	for _, r := range evaltest.RandomResults(20, 0.6, 1) {
		if r.QuestionType != "Clinical Management" {
			agg.Add(r)
		}
	}
	s, _ := agg.Summary()
	var buf bytes.Buffer
	if err := (&TableReport{Runs: []Run{{Label: "lingshu-7b", Summary: s}}, Options: Options{Paper: true, Width: 200}}).Render(&buf, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "lingshu-7b scored no item of CM") {
		t.Errorf("no warning of the missing type:\n%s", buf.String())
	}
}

// TestFormatPAtItsResolution: a p-value is printed no finer than its
// resamples allow: few resamples in the tail give an upper bound.
func TestFormatPAtItsResolution(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    float64
		b    int
		want string
	}{
		{0, 2000, "<0.004"},
		{0.001, 2000, "<0.006"},
		{0, 20000, "<0.0004"},
		{0, 200000, "<0.00004"},
		{0.2, 2000, "0.200"},
		{0.012, 2000, "0.012"},
	} {
		if got := FormatP(tc.p, tc.b); got != tc.want {
			t.Errorf("FormatP(%g, %d) = %q, want %q", tc.p, tc.b, got, tc.want)
		}
	}
}

// TestMacroExclusionInEveryFormat: a type with items but none scored is
// named as left out of Macro in every format of the table.
func TestMacroExclusionInEveryFormat(t *testing.T) {
	t.Parallel()
	agg := stats.NewAggregator(stats.AggregateOptions{Resamples: -1})
	for _, r := range evaltest.RandomResults(20, 0.6, 1) {
		if r.QuestionType == "Clinical Management" {
			r.Status, r.Score, r.AllMet = "error", nil, nil
		}
		agg.Add(r)
	}
	s, _ := agg.Summary()
	for _, f := range []string{"text", "markdown", "latex", "csv", "json"} {
		var buf bytes.Buffer
		if err := (&TableReport{Runs: []Run{{Label: "m", Summary: s}}, Options: Options{Width: 300}}).Render(&buf, f); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "Clinical Management") || !strings.Contains(strings.ToLower(buf.String()), "leaves out") {
			t.Errorf("%s does not say that Macro leaves out Clinical Management:\n%s", f, buf.String())
		}
	}
}

// TestNotesNameRunsByTheirRows: footnotes name runs as their rows do, so
// three runs of one model are told apart, and two runs whose notes would
// read alike under the model's name keep a note each.
func TestNotesNameRunsByTheirRows(t *testing.T) {
	t.Parallel()
	var runs []Run
	for i, dir := range []string{"runs/a", "runs/b", "runs/c"} {
		agg := stats.NewAggregator(stats.AggregateOptions{Resamples: -1})
		for j, r := range evaltest.RandomResults(5, 0.6, uint64(i+1)) {
			if j < 2 {
				r.Status, r.Score, r.AllMet = "error", nil, nil // a note each: unscored and errored items
			}
			agg.Add(r)
		}
		s, _ := agg.Summary()
		runs = append(runs, Run{Label: "lingshu-7b", Dir: dir, Summary: s})
	}
	var buf bytes.Buffer
	if err := (&TableReport{Runs: runs, Options: Options{Width: 400}}).Render(&buf, "text"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "b", "c"} {
		if !strings.Contains(buf.String(), "lingshu-7b ("+d+"): 2 unscored") && !strings.Contains(buf.String(), "lingshu-7b ("+d+"): 0 unscored and 2 errored") {
			t.Errorf("no note for lingshu-7b (%s):\n%s", d, buf.String())
		}
	}
}
