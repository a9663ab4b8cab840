package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/stats"
)

// TestNoVisionIsFatal: a model server that refuses images as llama-server
// without --mmproj does (HTTP 500 "image input is not supported … mmproj")
// stops the run at its first image item with one message naming the
// cause, instead of retrying every image item.
func TestNoVisionIsFatal(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{NoVision: true})
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--concurrency", "1")...)
	if code != 3 || !strings.Contains(stderr, "--mmproj") || strings.Count(stderr, "image input is not supported") != 1 {
		t.Errorf("exit %d, want 3 with one message naming --mmproj\n%s", code, stderr)
	}
	if n := srv.Requests("model"); n > 2 {
		t.Errorf("%d model requests: an endpoint that takes no images was asked again", n)
	}
}

// TestTimeoutsCountedApart: attempts cut off at --call-timeout are
// counted apart from other retries in summary.json and named, with what
// they suggest, in the run's last lines.
func TestTimeoutsCountedApart(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{ModelFaults: llmtest.Faults{Slow: 0.3, SlowDelay: time.Second}})
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--call-timeout", "300ms", "--max-attempts", "10", "--limit", "20")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var s stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	n := s.Run.Timeouts["model"]
	if n == 0 || n > s.Run.Retries["model"] {
		t.Errorf("timeouts %v, retries %v: want the model's timeouts counted, among its retries", s.Run.Timeouts, s.Run.Retries)
	}
	if flat := strings.Join(strings.Fields(stderr), " "); !strings.Contains(flat, "timed out at --call-timeout") || !strings.Contains(flat, "--concurrency auto") {
		t.Errorf("no note on the timeouts:\n%s", stderr)
	}
}

// corruptJPEG writes a JPEG whose header and end marker are intact and
// whose entropy-coded body is garbage, and a good one beside it.
func corruptJPEG(t *testing.T, dir string) (good, bad string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := range 64 {
		for y := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), 100, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	good = writeFile(t, dir, "good.jpg", string(data))
	sos := bytes.Index(data, []byte{0xff, 0xda})
	start := sos + 2 + (int(data[sos+2])<<8 | int(data[sos+3]))
	c := slices.Clone(data)
	r := rand.New(rand.NewPCG(1, 2))
	for i := start; i < len(c)-2; i++ {
		c[i] = byte(r.IntN(255)) // never 0xff: no marker inside
	}
	return good, writeFile(t, dir, "bad.jpg", string(c))
}

// TestCorruptImageRefused: a JPEG with an intact header and end marker
// but a garbage body is refused before any request, naming the item
// (exit 2), or skipped with --skip-bad-items; each distinct image is
// decoded once.
func TestCorruptImageRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, bad := corruptJPEG(t, dir)
	data := writeFile(t, dir, "items.jsonl",
		`{"id":"a","question":"Is there a mass?","answer":"yes","question_type":"VP","image":"`+good+`"}`+"\n"+
			`{"id":"broken","question":"Is it benign?","answer":"no","question_type":"DI","image":"`+bad+`"}`+"\n"+
			`{"id":"c","question":"Is it left?","answer":"yes","question_type":"VP","image":"`+good+`"}`+"\n")
	srv := fakeServer(t, llmtest.Config{})
	_, stderr, code := cli(t, t.Context(), runArgs(srv, filepath.Join(dir, "run"), "--data", data)...)
	if code != 2 || !strings.Contains(stderr, `"broken"`) || !strings.Contains(stderr, "does not decode") {
		t.Errorf("a corrupt image: exit %d, want 2 naming the item\n%s", code, stderr)
	}
	if n := srv.Requests("model"); n != 0 {
		t.Errorf("%d model requests before the refusal", n)
	}
	out := filepath.Join(dir, "skip")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, out, "--data", data, "--skip-bad-items")...); code != 0 {
		t.Fatalf("--skip-bad-items: exit %d\n%s", code, stderr)
	}
	var s stats.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	if s.NItems != 2 || s.Run.NSkipped != 1 {
		t.Errorf("%d items, %d skipped; want 2 and 1", s.NItems, s.Run.NSkipped)
	}
}
