package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/eval/llmtest"
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
