package reports

import (
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Table writes an optional title line and a text table with the given
// header and rows, left-aligned, then a blank line.
func Table(w io.Writer, title string, header []string, rows [][]string) error {
	if title != "" {
		if _, err := fmt.Fprintln(w, title); err != nil {
			return err
		}
	}
	if err := render(w, header, rows, tw.AlignLeft); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

// render draws a text table with tablewriter: the header as given (no
// upper-casing), cells aligned as align says, never wrapped.
func render(w io.Writer, header []string, rows [][]string, align tw.Align) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(align),
		tablewriter.WithRowAlignment(align),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}
