package eval

import (
	"testing"
)

func TestNouns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{1, "answer", "1 answer"}, {0, "answer", "0 answers"}, {2, "retry", "2 retries"},
		{1, "retry", "1 retry"}, {3, "day", "3 days"}, {2, "class", "2 classes"},
		{2, "judge repair", "2 judge repairs"}, {1, "cached judgment", "1 cached judgment"},
	} {
		if got := Nouns(tc.n, tc.noun); got != tc.want {
			t.Errorf("Nouns(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
