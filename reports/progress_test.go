package reports

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		s     Progress
		width int
		want  string
	}{
		{"start", Progress{Total: 9264}, 79, "0/9264 done (0%), 0 answered, 0.0 items/s, ETA ?, 0 retries, 0 errors"},
		{"one", Progress{Total: 10, Answered: 1, JudgedHere: 1, Retries: 1, Errors: 1, Elapsed: 2 * time.Second}, 79,
			"2/10 done (20%), 1 answered, 1.0 items/s, ETA 8s, 1 retry, 1 error"},
		// A resumed run: 9000 items judged before this process started
		// count as done, not in the rate.
		{"resumed", Progress{Total: 9264, Answered: 9100, JudgedBefore: 9000, JudgedHere: 100, Cached: 40, Elapsed: 10 * time.Second}, 79,
			"9100/9264 done (98%), 9100 answered, 10.0 items/s, ETA 16s, 0 retries, 0 errors"},
		{"cached", Progress{Total: 90, Answered: 50, JudgedHere: 50, Cached: 40, Elapsed: 10 * time.Second}, 100,
			"50/90 done (56%), 50 answered, 40 cached, 5.0 items/s, ETA 8s, 0 retries, 0 errors"},
		// More done than total (errors retried and judged) never gives a
		// negative ETA.
		{"over", Progress{Total: 5, JudgedHere: 5, Errors: 2, Elapsed: time.Second}, 79,
			"7/5 done (140%), 0 answered, 7.0 items/s, ETA 0s, 0 retries, 2 errors"},
		{"narrow", Progress{Total: 100000, Answered: 55555, JudgedHere: 55000, Retries: 12345, Errors: 321, Elapsed: time.Hour}, 40,
			"55321/100000 done (55%), ETA 48m27s"},
	} {
		got := tc.s.Line(tc.width)
		if got != tc.want {
			t.Errorf("%s: line = %q, want %q", tc.name, got, tc.want)
		}
		if len(got) > tc.width || strings.Contains(got, "-") {
			t.Errorf("%s: %q is longer than %d or negative", tc.name, got, tc.width)
		}
	}
}
