package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// Inspection renders a dataset inspection as text: the schema and
// mapping, counts per question type, modality and source, image and
// rubric statistics, and every problem found.
func Inspection(w io.Writer, in *dataset.Inspection) error {
	fmt.Fprintf(w, "%s (%s): %s\n", in.Path, in.Format, eval.Nouns(in.Items, "item"))
	if in.Fingerprint != "" {
		fmt.Fprintf(w, "fingerprint: sha256:%s\n", in.Fingerprint)
	}
	fmt.Fprintln(w)
	var cols [][]string
	role := map[string]string{}
	for r, c := range in.Mapping {
		role[c] = r
	}
	for _, c := range in.Columns {
		cols = append(cols, []string{c.Name, c.Type, role[c.Name]})
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
	if err := Table(w, "Images", []string{"images", ""}, rows); err != nil {
		return err
	}
	rb := in.Rubrics
	rows = [][]string{
		{"items with own rubric", strconv.Itoa(rb.Own)},
		{"items with default rubric", fmt.Sprintf("%d (psv-default-v1, sha256:%s)", rb.Default, rundir.ShortHash(rb.DefaultHash))},
		{"criteria per item p0/p50/p90/p99/max", joinPct(rb.Criteria)},
		{"most common dims", joinCounts(rb.TopDims)},
	}
	if err := Table(w, "Rubrics", []string{"rubrics", ""}, rows); err != nil {
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
	return Table(w, fmt.Sprintf("Problems (%d)", len(in.Problems)), []string{"where", "item", "problem"}, rows)
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
