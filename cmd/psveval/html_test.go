package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/eval/llmtest"
)

// browser starts headless Chromium for a test, or skips it where there is
// none or PSVEVAL_SKIP_BROWSER=1 (make check); under CI a missing browser
// fails the test (.ci/run installs it).
func browser(t *testing.T) context.Context {
	t.Helper()
	if os.Getenv("PSVEVAL_SKIP_BROWSER") == "1" {
		t.Skip("PSVEVAL_SKIP_BROWSER=1: the browser tests are left out")
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on PATH: .ci/run installs it with apt-get install -y chromium")
		}
		t.Skip("no chromium on PATH: apt-get install -y chromium to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}

// watchRequests opens the browser's tab and records every request the
// page makes from then on; the returned function lists them.
func watchRequests(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var requests []string
	if err := chromedp.Do(ctx); err != nil { // open the tab, so that Listen misses nothing
		t.Fatal(err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), requests...)
	}
}

// countText reads the page's "N of M items".
func countText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#count")))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// setFilter sets a filter as a person would and returns the count shown.
func setFilter(t *testing.T, ctx context.Context, id, value string) string {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q; e.dispatchEvent(new Event(e.tagName === "INPUT" ? "input" : "change")); return e.value; })()`, id, value)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatal(err)
	}
	if got != value {
		t.Fatalf("filter %s has no option %q", id, value)
	}
	return countText(t, ctx)
}

// TestHTMLReportInABrowser opens the offline page of two runs in headless
// Chromium: every item is there, each filter's count matches one computed
// here, a fragment link reopens a view, an item shows its verdicts, no
// request leaves the page, and untrusted text runs nothing.
func TestHTMLReportInABrowser(t *testing.T) {
	ctx := browser(t)
	base, cand := writeRuns(t)
	xss := []string{`<img src=x onerror="window.__pwned=1">`, `</script><script>window.__pwned=2</script>`, `"><svg onload="window.__pwned=3">`}
	rs := evaltest.RandomResults(20, 0.6, 11)
	for i := range xss {
		rs[i].Answer, rs[i].Question = xss[i], xss[(i+1)%len(xss)]
		rs[i].Criteria[0].Explanation = xss[(i+2)%len(xss)]
	}
	evil := filepath.Join(t.TempDir(), "evil")
	if err := evaltest.WriteRun(evil, "evil-model", rs); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "flips.html")
	if _, stderr, code := cli(t, t.Context(), "compare", "--format", "html", "-o", page, base, cand); code != 0 {
		t.Fatalf("compare --format html: exit %d\n%s", code, stderr)
	}
	ra, rb := readResults(t, base), readResults(t, cand)
	requested := watchRequests(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS("#count"))); err != nil {
		t.Fatal(err)
	}
	if got, want := countText(t, ctx), fmt.Sprintf("%d of %d items", len(ra), len(ra)); got != want {
		t.Fatalf("count %q, want %q", got, want)
	}
	count := func(f func(a, b eval.Result) bool) string {
		n := 0
		for i := range ra {
			if f(ra[i], rb[i]) {
				n++
			}
		}
		return fmt.Sprintf("%d of %d items", n, len(ra))
	}
	for _, tc := range []struct {
		id, value string
		want      func(a, b eval.Result) bool
	}{
		{"f-type", "Diagnostic Inference", func(a, _ eval.Result) bool { return a.QuestionType == "Diagnostic Inference" }},
		{"f-change", "worsened", func(a, b eval.Result) bool { return *b.Score < *a.Score }},
		{"f-change", "improved", func(a, b eval.Result) bool { return *b.Score > *a.Score }},
		{"f-crit", "d3", func(a, b eval.Result) bool { return !*a.Criteria[2].Met || !*b.Criteria[2].Met }},
		{"f-metakey", "modality", func(a, _ eval.Result) bool { return true }},
		{"f-metaval", "CT", func(a, _ eval.Result) bool { return a.Meta["modality"] == "CT" }},
		{"f-q", "vp-00007", func(a, _ eval.Result) bool { return strings.EqualFold(a.ID, "VP-00007") }},
	} {
		// Filters combine: clear the others for a clean count of this one.
		if tc.id != "f-metaval" {
			for _, other := range []string{"f-type", "f-change", "f-crit", "f-metakey", "f-q"} {
				if other != tc.id {
					setFilter(t, ctx, other, "")
				}
			}
		}
		if got, want := setFilter(t, ctx, tc.id, tc.value), count(tc.want); got != want {
			t.Errorf("filter %s=%s: %q, want %q", tc.id, tc.value, got, want)
		}
	}
	// A fragment link reopens a combined view.
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page+"#type=Visual+Perception&change=worsened"), chromedp.WaitVisible(chromedp.CSS("#count"))); err != nil {
		t.Fatal(err)
	}
	want := count(func(a, b eval.Result) bool { return a.QuestionType == "Visual Perception" && *b.Score < *a.Score })
	if got := countText(t, ctx); got != want {
		t.Errorf("fragment link: %q, want %q", got, want)
	}
	// An item shows each run's verdicts.
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page+"#q=VP-00001"), chromedp.WaitVisible(chromedp.CSS("#item-VP-00001"))); err != nil {
		t.Fatal(err)
	}
	card, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#item-VP-00001")))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{ra[1].Answer, "d1", "d5", "score"} {
		if !strings.Contains(card, s) {
			t.Errorf("item VP-00001 does not show %q:\n%s", s, card)
		}
	}
	shot := filepath.Join(os.TempDir(), "psveval-html-report.png")
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS("#count"))); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// Untrusted text renders as text.
	evilPage := filepath.Join(t.TempDir(), "evil.html")
	if _, stderr, code := cli(t, t.Context(), "report", "--format", "html", "-o", evilPage, evil); code != 0 {
		t.Fatalf("report --format html: exit %d\n%s", code, stderr)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+evilPage), chromedp.WaitVisible(chromedp.CSS("#count")), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof window.__pwned`))
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#items")))
	if err != nil {
		t.Fatal(err)
	}
	if pwned != "undefined" {
		t.Errorf("untrusted text ran: window.__pwned is %s", pwned)
	}
	for _, s := range xss {
		if !strings.Contains(body, s) {
			t.Errorf("the payload %q is not shown as text", s)
		}
	}
	for _, u := range requested() {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page made a request to %s", u)
		}
	}
}

// TestHTMLReportImages writes the page of a run of the bundled fixture,
// whose items have images: thumbnails are embedded as data URIs, once
// per distinct image.
func TestHTMLReportImages(t *testing.T) {
	t.Parallel()
	srv := fakeServer(t, llmtest.Config{})
	out := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, out)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	page := filepath.Join(t.TempDir(), "report.html")
	if _, stderr, code := cli(t, t.Context(), "report", "--format", "html", "-o", page, out); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if n := strings.Count(s, `data:image/jpeg;base64,`); n == 0 {
		t.Error("no thumbnail in the page")
	}
	if !strings.Contains(s, `Content-Security-Policy`) || strings.Contains(s, "http://") || strings.Contains(s, "https://") {
		t.Error("the page lacks its CSP or refers to the network")
	}
	if _, _, code := cli(t, t.Context(), "report", "--format", "html", out); code != 2 {
		t.Errorf("--format html without -o: exit %d, want 2", code)
	}
}

// BenchmarkHTMLPage measures the HTML report at full size: 9,264 items,
// each with one real JPEG of the medvqa sample (142 distinct images, as
// thumbnails): the time to write the page, its size, and in headless
// Chromium the time until it is interactive and the time of one filter
// change over every item.
func BenchmarkHTMLPage(b *testing.B) {
	sample := filepath.Join("..", "..", "..", "shared", "data", "medvqa-sample", "items.jsonl")
	if _, err := os.Stat(sample); err != nil {
		b.Skip("needs ../shared/data/medvqa-sample")
	}
	const n = 9264
	dir := b.TempDir()
	data := filepath.Join(dir, "items.jsonl")
	root, err := filepath.Abs(filepath.Dir(sample))
	if err != nil {
		b.Fatal(err)
	}
	if err := writeImageItems(sample, data, n); err != nil {
		b.Fatal(err)
	}
	srv := llmtest.New(b, llmtest.Config{})
	out := filepath.Join(dir, "run")
	args := []string{"run", "--data", data, "--image-root", root, "--out", out, "--no-cache", "--progress", "none",
		"--model-url", srv.URL, "--model", "fake-vlm", "--judge-url", srv.URL, "--judge-model", llmtest.DefaultJudge, "--max-error-rate", "1"}
	if err := run(b.Context(), args, io.Discard, io.Discard); err != nil {
		b.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	var write time.Duration
	for b.Loop() {
		start := time.Now()
		if err := run(b.Context(), []string{"report", "--format", "html", "-o", page, "--image-root", root, out}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
		write = time.Since(start)
	}
	st, _ := os.Stat(page)
	b.ReportMetric(write.Seconds(), "write-s")
	b.ReportMetric(float64(st.Size())/(1<<20), "MB")
	path, err := exec.LookPath("chromium")
	if err != nil {
		b.Log("no chromium: browser figures left out")
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(b.TempDir()), chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(actx)
	defer cancel2()
	if err := chromedp.Do(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS("#count"))); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "interactive-s")
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => { const e = document.getElementById("f-status"); const t0 = performance.now();
		e.value = "ok"; e.dispatchEvent(new Event("change")); return performance.now() - t0; })()`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms, "filter-ms")
}

// writeImageItems writes n items that cycle through the sample's images.
func writeImageItems(sample, path string, n int) error {
	b, err := os.ReadFile(sample)
	if err != nil {
		return err
	}
	var rows []map[string]any
	for l := range strings.Lines(string(b)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			return err
		}
		if m["image"] != nil {
			rows = append(rows, m)
		}
	}
	var out strings.Builder
	for i := range n {
		r := rows[i%len(rows)]
		line, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("img-%06d", i), "question": fmt.Sprintf("%v [item %d]", r["question"], i),
			"answer": r["answer"], "question_type": r["question_type"], "image": r["image"]})
		out.Write(append(line, '\n'))
	}
	return os.WriteFile(path, []byte(out.String()), 0o644)
}
