package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/psveval/psveval/eval/llmtest"
	"github.com/psveval/psveval/eval/rundir"
)

// TestLabelSheetInABrowser fills in the HTML label sheet in headless
// Chromium as a clinician would: every drawn item is there with its
// image, ticking criteria and "marked" then Export downloads a labels
// file with the draw's record and a label per criterion of each marked
// item, as ticked; that file reads back in audit and report
// --calibrate; and nothing is fetched.
func TestLabelSheetInABrowser(t *testing.T) {
	ctx := browser(t)
	srv := fakeServer(t, llmtest.Config{})
	run := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, t.Context(), runArgs(srv, run)...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	dir := t.TempDir()
	sheet := filepath.Join(dir, "sheet.jsonl")
	if _, stderr, code := cli(t, t.Context(), "audit", "--sample", "24", "--stratify", "type", "--seed", "3", "-o", sheet, run); code != 0 {
		t.Fatalf("audit --sample: exit %d\n%s", code, stderr)
	}
	downloads := t.TempDir()
	done := make(chan string, 1)
	requested := watchRequests(t, ctx)
	if err := chromedp.ListenBrowser(ctx, func(ev any) {
		if e, ok := ev.(*cdpbrowser.EventDownloadProgress); ok && e.State == cdpbrowser.DownloadProgressStateCompleted {
			done <- e.GUID
		}
	}); err != nil {
		t.Fatal(err)
	}
	events := true
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &events}); err != nil {
		t.Fatal(err)
	}
	page := strings.TrimSuffix(sheet, ".jsonl") + ".html"
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS("#progress"))); err != nil {
		t.Fatal(err)
	}
	counts, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll(".item").length, document.querySelectorAll(".item img").length, document.querySelectorAll("input.met").length]`))
	if err != nil {
		t.Fatal(err)
	}
	if counts[0] != 24 || counts[1] != 24 || counts[2] != 24*5 {
		t.Fatalf("the page shows %d items, %d images, %d criteria; want 24, 24, 120", counts[0], counts[1], counts[2])
	}
	// Mark the first 20 items; tick criterion k of item i when (i+k) is
	// odd, by clicking as a person would.
	const marked = 20
	for i := range marked {
		for k := range 5 {
			if (i+k)%2 == 1 {
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input.met[data-item="%d"][data-crit="%d"]`, i, k)))); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input.done[data-item="%d"]`, i)))); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#progress"))); err != nil || got != "20 of 24 items marked" {
		t.Fatalf("progress %q (%v)", got, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#export"))); err != nil {
		t.Fatal(err)
	}
	var guid string
	select {
	case guid = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Export downloaded nothing in 30 s")
	}
	exported := filepath.Join(dir, "labels.jsonl")
	b, err := os.ReadFile(filepath.Join(downloads, guid))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "labels.jsonl", string(b))

	ls, err := rundir.ReadLabelSet(exported)
	if err != nil {
		t.Fatalf("the exported file does not read: %v\n%s", err, b)
	}
	if ls.Sample == nil || ls.Sample.N != 24 || ls.Sample.Stratify != "question_type" || len(ls.Labels) != marked*5 {
		t.Fatalf("exported: record %+v, %d labels; want the draw of 24 by question_type and %d labels", ls.Sample, len(ls.Labels), marked*5)
	}
	order := map[string]int{}
	for i, it := range ls.Sample.Items {
		order[it.ID] = i
	}
	dims := map[string]int{}
	for _, l := range ls.Labels {
		i := order[l.ID]
		k := dims[l.ID]
		dims[l.ID]++
		if want := (i+k)%2 == 1; *l.Met != want {
			t.Errorf("%s/%s exported met=%t, ticked %t", l.ID, l.Dim, *l.Met, want)
		}
	}
	if _, stderr, code := cli(t, t.Context(), "audit", "--labels", exported, run); code != 0 {
		t.Errorf("audit --labels of the exported file: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := cli(t, t.Context(), "report", "--calibrate", exported, "--min-labelled", "2", run)
	flat := strings.Join(strings.Fields(stdout), " ")
	if code != 0 || !strings.Contains(flat, "(corrected)") || !strings.Contains(flat, "4 items of the 24 drawn have no labels") {
		t.Errorf("report --calibrate of the exported file: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, u := range requested() {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("the page fetched %s", u)
		}
	}
}
