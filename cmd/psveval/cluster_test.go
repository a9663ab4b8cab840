package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// medvqa is the medvqa sample beside the project, in CI too.
var medvqa = filepath.Join("..", "..", "..", "shared", "data", "medvqa-sample", "items.jsonl")

// TestClustersOfTheMedVQASample runs the real medvqa sample (375 items on
// 142 images) and checks that every result carries its image's cluster
// key, the manifest records how keys were made, and the report's
// intervals resample the 142 images, with a design effect per column;
// --cluster-by takes a column, and refuses one the dataset lacks.
func TestClustersOfTheMedVQASample(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(medvqa); err != nil {
		t.Skipf("skipping: %s is absent (%v); it sits at ../shared beside the project in CI", medvqa, err)
	}
	refs, err := llmtest.References(medvqa)
	if err != nil {
		t.Fatal(err)
	}
	srv := llmtest.New(t, llmtest.Config{References: refs})
	run := func(out string, extra ...string) (string, int) {
		args := append([]string{"run", "--data", medvqa, "--out", out, "--no-cache", "--progress", "none",
			"--model-url", srv.URL, "--model", "lingshu-7b", "--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge}, extra...)
		_, stderr, code := cli(t, t.Context(), args...)
		return stderr, code
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "image")
	if stderr, code := run(out); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	clusters := map[string]int{}
	for _, l := range readLines(t, filepath.Join(out, rundir.ResultsFile)) {
		var r eval.Result
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Cluster) != 64 {
			t.Fatalf("item %s has cluster key %q, want its image's SHA-256", r.ID, r.Cluster)
		}
		clusters[r.Cluster]++
	}
	if len(clusters) != 142 {
		t.Errorf("%d distinct cluster keys, want the sample's 142 images", len(clusters))
	}
	var m rundir.Manifest
	readJSON(t, filepath.Join(out, rundir.ManifestFile), &m)
	if m.Dataset.ClusterBy != "image" {
		t.Errorf("manifest cluster_by %q, want image", m.Dataset.ClusterBy)
	}
	stdout, stderr, code := cli(t, t.Context(), "report", "--ci", "--format", "json", out)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	var rep struct {
		Rows []struct {
			Summary stats.Summary `json:"summary"`
		} `json:"rows"`
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Rows) != 1 {
		t.Fatalf("report json: %v\n%s", err, stdout)
	}
	s := rep.Rows[0].Summary
	if s.Bootstrap == nil || s.Bootstrap.Clusters != 142 || s.AvgMicroDeff == nil || !strings.Contains(s.Bootstrap.Method, "clusters") {
		t.Errorf("report's bootstrap %+v, Avg design effect %v: want 142 clusters resampled and a design effect", s.Bootstrap, s.AvgMicroDeff)
	}
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, "intervals resample 142 clusters, not 375 items") {
		t.Errorf("no footnote of the design effect over 1.2 among:\n%s", notes)
	}
	byColumn := filepath.Join(dir, "column")
	if stderr, code := run(byColumn, "--cluster-by", "orig_image_name", "--limit", "40"); code != 0 {
		t.Fatalf("--cluster-by orig_image_name: exit %d\n%s", code, stderr)
	}
	for _, l := range readLines(t, filepath.Join(byColumn, rundir.ResultsFile)) {
		var r eval.Result
		json.Unmarshal([]byte(l), &r)
		if !strings.HasSuffix(r.Cluster, ".jpg") {
			t.Fatalf("--cluster-by orig_image_name: item %s has key %q", r.ID, r.Cluster)
		}
	}
	if stderr, code := run(filepath.Join(dir, "bad"), "--cluster-by", "patient_id"); code != 2 || !strings.Contains(stderr, `--cluster-by "patient_id": no such column`) {
		t.Errorf("--cluster-by a missing column: exit %d, want 2 naming it\n%s", code, stderr)
	}
}
