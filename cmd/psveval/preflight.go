package main

import (
	"fmt"
	"io"
)

// noteTo returns a function that prints a note on w.
func noteTo(w io.Writer) func(string) {
	return func(msg string) { fmt.Fprintln(w, "note: "+msg) }
}
