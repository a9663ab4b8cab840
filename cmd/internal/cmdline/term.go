package cmdline

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/psveval/psveval/reports"
)

// Width returns the width text tables written to w must fit in: the
// terminal's width when w is one, else $COLUMNS when set, else
// reports.DefaultWidth. A --width flag, when given, wins over it (see
// TextWidth).
func Width(w io.Writer) int {
	if n := WrapWidth(w); n > 0 {
		return n
	}
	return reports.DefaultWidth
}

// TextWidth returns flagWidth when it is set (above 0), else Width(w).
func TextWidth(flagWidth int, w io.Writer) int {
	if flagWidth > 0 {
		return flagWidth
	}
	return Width(w)
}

// WrapWidth is the width messages to w wrap at: the terminal's, or
// $COLUMNS; 0 when neither is known, so that a log keeps one line a
// message.
func WrapWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return 0
}

// Sayf writes a message to w, wrapped between words at WrapWidth(w), so
// that a terminal never cuts a word. Commands to paste are printed on
// lines of their own, never through Sayf.
func Sayf(w io.Writer, format string, args ...any) {
	msg := strings.TrimSuffix(fmt.Sprintf(format, args...), "\n")
	if n := WrapWidth(w); n > 0 {
		io.WriteString(w, reports.Wrap(msg, n))
		return
	}
	fmt.Fprintln(w, msg)
}

// NoteTo returns a function that prints a note on w.
func NoteTo(w io.Writer) func(string) {
	return func(msg string) { Sayf(w, "note: %s", msg) }
}
