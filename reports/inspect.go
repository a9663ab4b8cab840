package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// Inspection renders a dataset inspection as text: the schema and
// mapping, counts per question type, modality and source, image and
// rubric statistics, and every problem found, in width columns (0:
// DefaultWidth): a column type too long is cut with "…", and problems
// that do not fit a table are listed, each wrapped.
func Inspection(w io.Writer, in *dataset.Inspection, width int) error {
	if width <= 0 {
		width = DefaultWidth
	}
	io.WriteString(w, wrap(fmt.Sprintf("%s (%s): %s", in.Path, in.Format, eval.Nouns(in.Items, "item")), width, "    "))
	if in.Fingerprint != "" {
		io.WriteString(w, wrap("fingerprint: sha256:"+in.Fingerprint, width, "    "))
	}
	fmt.Fprintln(w)
	var cols [][]string
	role := map[string]string{}
	for r, c := range in.Mapping {
		role[c] = r
	}
	nameW, roleW := len("column"), len("mapped to")
	for _, c := range in.Columns {
		nameW, roleW = max(nameW, utf8.RuneCountInString(c.Name)), max(roleW, utf8.RuneCountInString(role[c.Name]))
	}
	typeW := max(12, width-nameW-roleW-10) // the borders and padding of three columns
	for _, c := range in.Columns {
		t := c.Type
		if r := []rune(t); len(r) > typeW {
			t = string(r[:typeW-1]) + "…"
		}
		cols = append(cols, []string{c.Name, t, role[c.Name]})
	}
	if c, ok := in.Mapping["id"]; ok && c == "(row number)" {
		cols = append(cols, []string{"(row number)", "", "id"})
	}
	if err := Table(w, "Schema", []string{"column", "type", "mapped to"}, cols); err != nil {
		return err
	}
	for _, g := range []struct {
		title  string
		counts []dataset.Count
	}{{"Question type (column " + in.Mapping["question_type"] + ")", in.ByType}, {"Modality", in.ByModality}, {"Source", in.BySource}} {
		if len(g.counts) == 0 {
			continue
		}
		rows := make([][]string, len(g.counts))
		for i, c := range g.counts {
			rows[i] = []string{c.Label, strconv.Itoa(c.N), pct(c.N, in.Items)}
		}
		if err := Table(w, g.title, []string{"label", "items", "share"}, rows); err != nil {
			return err
		}
	}
	im := in.Images
	rows := [][]string{
		{"images", strconv.Itoa(im.Count)},
		{"distinct images", strconv.Itoa(im.Distinct)},
		{"items without image", strconv.Itoa(im.ItemsNone)},
		{"items with several", strconv.Itoa(im.ItemsMulti)},
		{"formats", joinCounts(im.Formats)},
		{"colour models", joinCounts(im.ColorModels)},
		{"bytes p0/p50/p90/p99/max", joinPct(im.Bytes)},
		{"pixels p0/p50/p90/p99/max", joinPct(im.Pixels)},
	}
	if im.Decoded > 0 {
		rows = append(rows, []string{"fully decoded", strconv.Itoa(im.Decoded)})
	}
	if err := keyValues(w, "Images", rows, width); err != nil {
		return err
	}
	rb := in.Rubrics
	rows = [][]string{
		{"items with own rubric", strconv.Itoa(rb.Own)},
		{"items with default rubric", fmt.Sprintf("%d (psv-default-v1, sha256:%s)", rb.Default, rundir.ShortHash(rb.DefaultHash))},
		{"criteria per item p0/p50/p90/p99/max", joinPct(rb.Criteria)},
		{"most common dims", joinCounts(rb.TopDims)},
	}
	if err := keyValues(w, "Rubrics", rows, width); err != nil {
		return err
	}
	if len(in.Problems) == 0 {
		fmt.Fprintln(w, "Problems: none")
		return nil
	}
	rows = nil
	for _, p := range in.Problems {
		rows = append(rows, []string{p.Pos, p.ID, p.Message})
	}
	title := fmt.Sprintf("Problems (%d)", len(in.Problems))
	var tb strings.Builder
	if err := Table(&tb, title, []string{"where", "item", "problem"}, rows); err != nil {
		return err
	}
	if maxWidth(tb.String()) <= width {
		_, err := io.WriteString(w, tb.String())
		return err
	}
	fmt.Fprintln(w, title)
	for _, p := range in.Problems {
		io.WriteString(w, wrap(fmt.Sprintf("- %s, %s: %s", p.Pos, p.ID, p.Message), width, "  "))
	}
	return nil
}

func pct(n, total int) string {
	if total == 0 {
		return "-"
	}
	return stats.PctOf(int64(n), int64(total)).Format(1) + "%"
}

func joinCounts(cs []dataset.Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Label + " " + strconv.Itoa(c.N)
	}
	return strings.Join(parts, ", ")
}

func joinPct(p map[string]int) string {
	if p == nil {
		return "-"
	}
	keys := []string{"p0", "p50", "p90", "p99", "p100"}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.Itoa(p[k])
	}
	return strings.Join(parts, " / ")
}

// keyValues writes rows of a name and a value as a table when it fits
// width, else as "name: value" lines, each wrapped.
func keyValues(w io.Writer, title string, rows [][]string, width int) error {
	var tb strings.Builder
	if err := Table(&tb, title, []string{strings.ToLower(title), ""}, rows); err != nil {
		return err
	}
	if maxWidth(tb.String()) <= width {
		_, err := io.WriteString(w, tb.String())
		return err
	}
	fmt.Fprintln(w, title)
	for _, r := range rows {
		io.WriteString(w, wrap("- "+r[0]+": "+r[1], width, "    "))
	}
	_, err := fmt.Fprintln(w)
	return err
}
