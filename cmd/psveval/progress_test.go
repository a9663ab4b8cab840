package main

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		s     progressSnapshot
		width int
		want  string
	}{
		{"start", progressSnapshot{total: 9264}, 79, "0/9264 done (0%), 0 answered, 0.0 items/s, ETA ?, 0 retries, 0 errors"},
		{"one", progressSnapshot{total: 10, answered: 1, judgedHere: 1, retries: 1, errors: 1, elapsed: 2 * time.Second}, 79,
			"2/10 done (20%), 1 answered, 1.0 items/s, ETA 8s, 1 retry, 1 error"},
		// A resumed run: 9000 items judged before this process started
		// count as done, not in the rate.
		{"resumed", progressSnapshot{total: 9264, answered: 9100, judgedBefore: 9000, judgedHere: 100, cached: 40, elapsed: 10 * time.Second}, 79,
			"9100/9264 done (98%), 9100 answered, 10.0 items/s, ETA 16s, 0 retries, 0 errors"},
		{"cached", progressSnapshot{total: 90, answered: 50, judgedHere: 50, cached: 40, elapsed: 10 * time.Second}, 100,
			"50/90 done (56%), 50 answered, 40 cached, 5.0 items/s, ETA 8s, 0 retries, 0 errors"},
		// More done than total (errors retried and judged) never gives a
		// negative ETA.
		{"over", progressSnapshot{total: 5, judgedHere: 5, errors: 2, elapsed: time.Second}, 79,
			"7/5 done (140%), 0 answered, 7.0 items/s, ETA 0s, 0 retries, 2 errors"},
		{"narrow", progressSnapshot{total: 100000, answered: 55555, judgedHere: 55000, retries: 12345, errors: 321, elapsed: time.Hour}, 40,
			"55321/100000 done (55%), ETA 48m27s"},
	} {
		got := tc.s.line(tc.width)
		if got != tc.want {
			t.Errorf("%s: line = %q, want %q", tc.name, got, tc.want)
		}
		if len(got) > tc.width || strings.Contains(got, "-") {
			t.Errorf("%s: %q is longer than %d or negative", tc.name, got, tc.width)
		}
	}
}
