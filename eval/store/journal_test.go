package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/store"
)

type rec struct {
	Key   string `json:"key"`
	Value int    `json:"value"`
	Error string `json:"error,omitempty"`
}

func TestJournalAppendGetReopen(t *testing.T) {
	t.Parallel()
	for _, every := range []time.Duration{0, 5 * time.Millisecond, time.Hour} {
		t.Run(fmt.Sprintf("SyncEvery=%v", every), func(t *testing.T) {
			t.Parallel()
			testJournalAppendGetReopen(t, every)
		})
	}
}

func testJournalAppendGetReopen(t *testing.T, syncEvery time.Duration) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, warn, err := store.OpenJournal(path)
	if err != nil || warn != "" {
		t.Fatalf("OpenJournal = %v, %q", err, warn)
	}
	j.SyncEvery = syncEvery
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			key := fmt.Sprintf("k%03d", i)
			r := rec{Key: key, Value: i}
			if i%10 == 0 {
				r.Error = "boom"
			}
			if err := j.Append(key, r.Error != "", r); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Whatever the sync interval, an appended line is in the file once
	// Append returns: a process killed now loses nothing.
	if b, _ := os.ReadFile(path); strings.Count(string(b), "\n") != 200 {
		t.Errorf("before Close, the file has %d lines, want 200", strings.Count(string(b), "\n"))
	}
	if err := j.Append("k001", false, rec{Key: "k001", Value: -1}); err != nil { // a duplicate is not written
		t.Fatal(err)
	}
	if err := j.Append("k010", false, rec{Key: "k010", Value: 10}); err != nil { // a retried failure is
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != 201 {
		t.Errorf("journal has %d lines, want 201", n)
	}
	j, warn, err = store.OpenJournal(path)
	if err != nil || warn != "" {
		t.Fatalf("reopen = %v, %q", err, warn)
	}
	defer j.Close()
	if j.Len() != 181 {
		t.Errorf("Len = %d, want 181 (180 successes + the retried k010)", j.Len())
	}
	var r rec
	if ok, err := j.Get("k001", &r); !ok || err != nil || r.Value != 1 {
		t.Errorf("Get(k001) = %v, %v, %+v", ok, err, r)
	}
	if ok, _ := j.Get("k020", &r); ok {
		t.Error("a failed record is indexed as done")
	}
	if ok, err := j.GetFailed("k020", &r); !ok || err != nil || r.Error != "boom" {
		t.Errorf("GetFailed(k020) = %v, %v, %+v", ok, err, r)
	}
	if ok, _ := j.GetFailed("k010", &r); ok {
		t.Error("GetFailed(k010) found a failure that a later success replaced")
	}
}

func TestJournalTornLastLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	good := `{"key":"a","value":1}` + "\n" + `{"key":"b","value":2}` + "\n"
	for name, tail := range map[string]string{
		"cut in a string": `{"key":"c","val`,
		"cut after brace": `{"key":"c","value":3}`,
		"garbage":         "\x00\x00\x00",
	} {
		if err := os.WriteFile(path, []byte(good+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		j, warn, err := store.OpenJournal(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(warn, "torn last line") || j.Len() != 2 || j.Has("c") {
			t.Errorf("%s: warn %q, Len %d", name, warn, j.Len())
		}
		if err := j.Append("c", false, rec{Key: "c", Value: 3}); err != nil {
			t.Fatal(err)
		}
		j.Close()
		b, _ := os.ReadFile(path)
		if string(b) != good+`{"key":"c","value":3}`+"\n" {
			t.Errorf("%s: after repair and append the journal is %q", name, b)
		}
	}
}

func TestJournalCorruptMiddle(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	if err := os.WriteFile(path, []byte(`{"key":"a"}`+"\nnot json\n"+`{"key":"b"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := store.OpenJournal(path)
	if err == nil || !strings.Contains(err.Error(), "line 2 is corrupt") {
		t.Errorf("OpenJournal = %v, want a corrupt-line error", err)
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := store.OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("ab", 32)
	var r rec
	if c.Get(key, &r) {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put(key, rec{Key: key, Value: 7}); err != nil {
		t.Fatal(err)
	}
	c2, _ := store.OpenCache(dir)
	if !c2.Get(key, &r) || r.Value != 7 {
		t.Errorf("Get after Put = %+v", r)
	}
	if err := os.WriteFile(filepath.Join(dir, "judgments", "ab", key+".json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c2.Get(key, &r) {
		t.Error("a corrupt entry counts as a hit")
	}
}

// BenchmarkJournalAppend appends from 64 goroutines, as the runner does;
// with SyncEvery 0 each Append returns only once its line is synced.
func BenchmarkJournalAppend(b *testing.B) {
	for _, every := range []time.Duration{0, 200 * time.Millisecond} {
		b.Run(fmt.Sprintf("SyncEvery=%v", every), func(b *testing.B) { benchmarkJournalAppend(b, every) })
	}
}

func benchmarkJournalAppend(b *testing.B, syncEvery time.Duration) {
	j, _, err := store.OpenJournal(filepath.Join(b.TempDir(), "j.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	j.SyncEvery = syncEvery
	defer j.Close()
	var next atomic.Int64
	b.SetParallelism(32) // 2 cores × 32 = 64 writers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			key := fmt.Sprintf("%016x%048d", i+1, 0)
			if err := j.Append(key, false, rec{Key: key, Value: int(i)}); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestCacheConcurrentWriters: many writers (shards of one run, on one
// shared cache) putting the same and different keys at once leave every
// entry whole: each Get decodes a value some writer put.
func TestCacheConcurrentWriters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	type rec struct {
		Key    string `json:"key"`
		Writer int    `json:"writer"`
		Pad    string `json:"pad"`
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			c, err := store.OpenCache(dir) // each shard opens the cache itself
			if err != nil {
				t.Error(err)
				return
			}
			for k := range 50 {
				key := fmt.Sprintf("%064x", k%20) // shared keys
				if err := c.Put(key, rec{Key: key, Writer: w, Pad: strings.Repeat("x", 4096)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	c, err := store.OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 20 {
		key := fmt.Sprintf("%064x", k)
		var r rec
		if !c.Get(key, &r) || r.Key != key || len(r.Pad) != 4096 {
			t.Errorf("key %d: a torn or missing entry %+v", k, r.Key)
		}
	}
}

// fastRec writes itself, as the run's records do: Append writes it straight
// into the lines waiting to be written.
type fastRec struct {
	Key   string
	Value int
	Text  string // written unescaped, so a newline in it makes a bad record
}

func (r fastRec) AppendJSON(b []byte) []byte {
	return fmt.Appendf(b, `{"key":%q,"value":%d,"text":"%s"}`, r.Key, r.Value, r.Text)
}

// TestJournalAppendJSON appends records that write themselves from many
// goroutines, while the journal reuses the buffers it wrote, with records
// marshalled by encoding/json and records that would take several lines
// (refused) among them: every good record reads back whole, and the
// refused ones leave no trace.
func TestJournalAppendJSON(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, _, err := store.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			key := fmt.Sprintf("%016x%048d", i+1, 0)
			var err error
			switch i % 7 {
			case 3:
				err = j.Append(key, false, fastRec{Key: key, Value: i, Text: "two\nlines"})
			case 5: // through encoding/json, among the others
				if err := j.Append(key, false, struct {
					Key   string `json:"key"`
					Value int    `json:"value"`
					Text  string `json:"text"`
				}{key, i, strings.Repeat("y", i)}); err != nil {
					t.Errorf("Append(%d): %v", i, err)
				}
				return
			default:
				err = j.Append(key, false, fastRec{Key: key, Value: i, Text: strings.Repeat("x", i)})
				if err != nil {
					t.Errorf("Append(%d): %v", i, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "several lines") {
				t.Errorf("Append(%d) of a record on two lines = %v, want it refused", i, err)
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, warn, err := store.OpenJournal(path)
	if err != nil || warn != "" {
		t.Fatalf("reopen = %v, %q", err, warn)
	}
	defer j.Close()
	want := 0
	for i := range 500 {
		key := fmt.Sprintf("%016x%048d", i+1, 0)
		var got struct {
			Key   string `json:"key"`
			Value int    `json:"value"`
			Text  string `json:"text"`
		}
		ok, err := j.Get(key, &got)
		text := strings.Repeat("x", i)
		if i%7 == 5 {
			text = strings.Repeat("y", i)
		}
		if i%7 == 3 {
			if ok {
				t.Errorf("record %d, refused, was written: %+v", i, got)
			}
			continue
		}
		want++
		if !ok || err != nil || got.Value != i || got.Text != text {
			t.Errorf("Get(%d) = %v, %v, value %d, text of %d bytes", i, ok, err, got.Value, len(got.Text))
		}
	}
	if j.Len() != want {
		t.Errorf("Len = %d, want %d", j.Len(), want)
	}
}
