package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llmtest"
)

// journalItems reads a journal as a crash left it and returns the items
// with a successful record. A torn last line is allowed (the next run
// drops it); any other bad line fails the test.
func journalItems(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]bool{}
	}
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		if len(l) == 0 {
			continue
		}
		var r struct{ Item, Error string }
		if err := json.Unmarshal(l, &r); err != nil {
			if i == len(lines)-1 {
				continue // torn by the kill
			}
			t.Fatalf("%s: line %d is corrupt: %q", path, i+1, l)
		}
		if r.Error == "" {
			done[r.Item] = true
		}
	}
	return done
}

// TestKill9Resume starts a 2,000-item run in a child process, kills it
// with SIGKILL at random moments, resumes it each time, and checks that
// the end equals an uninterrupted run, that no answer or judgment that
// was recorded before a kill is asked for again (counted on the server),
// and that no journal line is corrupt or duplicated.
func TestKill9Resume(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	data, refs := textSet(t, n)
	byQuestion, err := referencesItems(data) // question → item id
	if err != nil {
		t.Fatal(err)
	}
	srv := llmtest.New(t, llmtest.Config{References: refs,
		ModelLatency: llmtest.Latency{Mean: 20 * time.Millisecond, Dist: "uniform"},
		JudgeLatency: llmtest.Latency{Mean: 80 * time.Millisecond, Dist: "uniform"}})
	dir := t.TempDir()
	srv.Session.Store(1000)
	ref := filepath.Join(dir, "uninterrupted")
	if _, stderr, code := cli(t, t.Context(), setArgs(data, srv.URL, ref)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(dir, "killed")
	args := setArgs(data, srv.URL, out)
	r := rand.New(rand.NewPCG(2026, 11))
	answered := map[int64]map[string]bool{} // session → items answered before it
	judged := map[int64]map[string]bool{}
	kills := 0
	for session := int64(1); ; session++ {
		answered[session] = journalItems(t, filepath.Join(out, "answers.jsonl"))
		judged[session] = journalItems(t, filepath.Join(out, "judgments.jsonl"))
		srv.Session.Store(session)
		cmd := exec.CommandContext(t.Context(), exe, args[0:]...)
		cmd.Env = append(os.Environ(), "PSVEVAL_TEST_MAIN=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if kills < 6 {
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Fatalf("session %d ended before its kill (%v): the run is too short to test\n%s", session, err, stderr.String())
			case <-time.After(time.Duration(300+r.IntN(700)) * time.Millisecond):
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			<-done
			kills++
			continue
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("final resume: %v\n%s", err, stderr.String())
		}
		break
	}
	if kills < 5 {
		t.Fatalf("only %d kills", kills)
	}
	sameRun(t, out, ref) // the end equals an uninterrupted run
	// results.jsonl is written beside the run, so each kill left a
	// temporary file; the resumes removed them.
	if stale, _ := filepath.Glob(filepath.Join(out, ".*.tmp-*")); len(stale) > 0 {
		t.Errorf("temporary files left in the run directory: %q", stale)
	}
	// Nothing recorded before a kill was asked for again.
	repeats := 0
	for _, rec := range srv.Records() {
		if rec.Session >= 1000 {
			continue
		}
		id := byQuestion[rec.Question]
		if id == "" {
			t.Fatalf("request for an unknown question %q", rec.Question)
		}
		before := answered[rec.Session]
		if rec.Kind == "judge" {
			before = judged[rec.Session]
		}
		if before[id] {
			repeats++
			t.Errorf("session %d asked the %s again about item %s, recorded before the kill", rec.Session, rec.Kind, id)
		}
	}
	// No journal line corrupt or duplicated.
	for _, j := range []string{"answers.jsonl", "judgments.jsonl"} {
		lines := readLines(t, filepath.Join(out, j))
		seen := map[string]bool{}
		for _, l := range lines {
			var rec struct{ Key, Item, Error string }
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("%s: corrupt line %q", j, l)
			}
			if rec.Error == "" {
				if seen[rec.Key] {
					t.Errorf("%s: item %s recorded twice", j, rec.Item)
				}
				seen[rec.Key] = true
			}
		}
		if len(seen) != n {
			t.Errorf("%s holds %d items, want %d", j, len(seen), n)
		}
	}
	t.Logf("%d kills; %d model and %d judge requests in all (%d items, uninterrupted run included); %d repeats",
		kills, srv.Requests("model"), srv.Requests("judge"), n, repeats)
}

// referencesItems maps each question of a dataset to its item id.
func referencesItems(path string) (map[string]string, error) {
	ds, err := dataset.Open(path, dataset.Options{})
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for it, err := range ds.All() {
		if err != nil {
			return nil, err
		}
		m[strings.TrimSpace(it.Question)] = it.ID
	}
	return m, nil
}
