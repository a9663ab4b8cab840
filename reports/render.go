package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// A Report is a value that renders itself in a named format. Every
// report of this package is one: [TableReport], [ComparisonReport],
// [SweepReport], [AgreementReport], [NoiseReport] and [FlipsReport].
type Report interface {
	// Render writes the report to w in format, or returns a
	// *FormatError naming the formats it has.
	Render(w io.Writer, format string) error
}

// A FormatError names a format a report cannot render, and those it can.
type FormatError struct {
	Format string
	Want   []string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("unknown format %q (want %s)", e.Format, strings.Join(e.Want, ", "))
}

// formatOf returns format's canonical name ("md" is "markdown", "tex" is
// "latex"), or a *FormatError when it is not one of want.
func formatOf(format string, want ...string) (string, error) {
	switch format {
	case "md":
		format = "markdown"
	case "tex":
		format = "latex"
	}
	if !slices.Contains(want, format) {
		return "", &FormatError{format, want}
	}
	return format, nil
}

// A TableReport is the per-type table of runs: text, markdown, latex,
// csv or json.
type TableReport struct {
	Runs    []Run
	Options Options
}

// Render renders the table in format.
func (t *TableReport) Render(w io.Writer, format string) error {
	r, err := ByName(format)
	if err != nil {
		return err
	}
	return r.Report(w, t.Runs, t.Options)
}

// A NoiseReport is a judge's noise floor, as psveval judge --repeat
// measures it: text or json.
type NoiseReport struct {
	Noise *stats.JudgeNoise
	Width int
}

// Render renders the noise floor in format.
func (n *NoiseReport) Render(w io.Writer, format string) error {
	f, err := formatOf(format, "text", "json")
	if err != nil {
		return err
	}
	if f == "json" {
		return encodeJSON(w, n.Noise)
	}
	return noiseText(w, n.Noise, n.Width)
}

// A FlipsReport lists the items whose score changed between two runs:
// text or json.
type FlipsReport struct {
	Flips []rundir.Flip
}

// Render renders the items in format.
func (fr *FlipsReport) Render(w io.Writer, format string) error {
	f, err := formatOf(format, "text", "json")
	if err != nil {
		return err
	}
	if f == "json" {
		return encodeJSON(w, fr.Flips)
	}
	return flipsText(w, fr.Flips)
}

// Render renders the agreement in format: text or json.
func (ar *AgreementReport) Render(w io.Writer, format string) error {
	f, err := formatOf(format, "text", "json")
	if err != nil {
		return err
	}
	if f == "json" {
		return ar.json(w)
	}
	return ar.text(w)
}

// Render renders the sweep in format: text and markdown give the table,
// the best values and the steps; json gives them as analysis.json holds
// them, with the table.
func (sr *SweepReport) Render(w io.Writer, format string) error {
	f, err := formatOf(format, "text", "markdown", "json")
	if err != nil {
		return err
	}
	switch f {
	case "markdown":
		if err := (Markdown{}).Report(w, sr.Runs, sr.tableOptions()); err != nil {
			return err
		}
		return sr.analysis(w, markdownTable)
	case "json":
		var table bytes.Buffer
		if err := (JSON{}).Report(&table, sr.Runs, sr.tableOptions()); err != nil {
			return err
		}
		return encodeJSON(w, struct {
			Name   string              `json:"name"`
			Axis   string              `json:"axis"`
			Values []float64           `json:"values"`
			Best   []stats.BestColumn  `json:"best"`
			Steps  []*stats.Comparison `json:"steps"`
			Table  json.RawMessage     `json:"table"`
		}{sr.Name, sr.Axis, sr.Values, sr.Best, sr.Steps, table.Bytes()})
	}
	return sr.text(w)
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// markdownTable writes a GitHub table.
func markdownTable(w io.Writer, header []string, rows [][]string) error {
	var b strings.Builder
	b.WriteString("\n| " + strings.Join(header, " | ") + " |\n|" + strings.Repeat("---|", len(header)) + "\n")
	for _, r := range rows {
		esc := make([]string, len(r))
		for i, c := range r {
			esc[i] = escapeMD(c)
		}
		b.WriteString("| " + strings.Join(esc, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
