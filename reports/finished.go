package reports

import (
	"bytes"
	"io"

	"github.com/psveval/psveval/eval/rundir"
)

// Finished writes a finished run's Markdown report, with intervals, into
// its directory's report.md, then prints its text table to w with
// intervals, title and width as opts say. psveval run and psveval merge
// end with it.
func Finished(w io.Writer, run Run, opts Options) error {
	var md bytes.Buffer
	if err := (Markdown{}).Report(&md, []Run{run}, Options{CI: true, Title: "psveval: " + run.Label}); err != nil {
		return err
	}
	if err := rundir.WriteReport(run.Dir, md.Bytes()); err != nil {
		return err
	}
	opts.CI = true
	return (Text{}).Report(w, []Run{run}, opts)
}
