package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/tw"
	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// An AgreementReport is a rater measured against a reference: a judge
// against human labels (psveval audit), or one judging against another
// (psveval agree), per rubric dimension and over all.
type AgreementReport struct {
	Title    string                 `json:"title"`
	Ref, Got string                 `json:"-"`
	Rows     []stats.RaterAgreement `json:"rows"`
	// Notes list what could not be paired, and why.
	Notes []string `json:"notes"`
	Width int      `json:"-"`
}

// text renders the report as a table with its notes.
func (ar *AgreementReport) text(w io.Writer) error {
	head := []string{"dim", "items", "agree %", "κ", "95% CI", "both met", ar.Got + " only", ar.Ref + " only", "neither", "precision", "recall"}
	var rows [][]string
	for _, r := range ar.Rows {
		ci := ""
		if r.KappaCI != nil {
			ci = "[" + stats.FormatFloat(r.KappaCI.Lo, 2) + ", " + stats.FormatFloat(r.KappaCI.Hi, 2) + "]"
		}
		c := r.Confusion
		rows = append(rows, []string{r.Dim, strconv.Itoa(r.Items), stats.FormatFloat(r.Agreement, 1), opt(r.Kappa, 2), ci,
			strconv.Itoa(c.TP), strconv.Itoa(c.FP), strconv.Itoa(c.FN), strconv.Itoa(c.TN), opt(r.Precision, 1), opt(r.Recall, 1)})
	}
	width := ar.Width
	if width == 0 {
		width = DefaultWidth
	}
	if _, err := io.WriteString(w, wrap(ar.Title, width, "    ")); err != nil {
		return err
	}
	tables, err := fitColumns(head, rows, width)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, tables); err != nil {
		return err
	}
	lines := append([]string{fmt.Sprintf("agree %% is the share of verdicts rated alike (100 − agree %% is the flip rate); κ is Cohen's kappa with a 95%% percentile bootstrap interval over items; precision and recall are of %s's \"met\" against %s's", ar.Got, ar.Ref)}, ar.Notes...)
	for _, l := range lines {
		if _, err := io.WriteString(w, wrap(l, width, "    ")); err != nil {
			return err
		}
	}
	return nil
}

// json renders the report for machines.
func (ar *AgreementReport) json(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ar)
}

// opt formats an optional number, "-" when absent.
func opt(v *float64, places int) string {
	if v == nil {
		return "-"
	}
	return stats.FormatFloat(*v, places)
}

// LabelNotes are the footnotes of an audit: the labels not counted, and
// why.
func LabelNotes(lm *rundir.LabelMatch) []string {
	var notes []string
	for _, miss := range []struct {
		what string
		ids  []string
	}{{"labelled items the run does not have (or whose call errored)", lm.NoItem}, {"labelled criteria the item does not have", lm.NoDim}, {"labelled criteria the judge left unscorable", lm.Unscorable}} {
		if len(miss.ids) > 0 {
			notes = append(notes, fmt.Sprintf("%s, not counted: %s", eval.Nouns(len(miss.ids), "label")+" for "+miss.what, ListSome(miss.ids, 20)))
		}
	}
	return notes
}

// VerdictNotes are the footnotes of an agreement between two judgings:
// what was not counted, and the items where they disagree.
func VerdictNotes(vm *rundir.VerdictMatch) []string {
	var notes []string
	if len(vm.OnlyA) > 0 {
		notes = append(notes, fmt.Sprintf("%s judged in A only, not counted: %s", eval.Nouns(len(vm.OnlyA), "item"), ListSome(vm.OnlyA, 20)))
	}
	if len(vm.Unscorable) > 0 {
		notes = append(notes, fmt.Sprintf("%s unscorable in A or B, not counted: %s", eval.Nouns(len(vm.Unscorable), "criterion"), ListSome(vm.Unscorable, 20)))
	}
	var lines []string
	for _, d := range vm.Disagree {
		lines = append(lines, d.Item+" ("+strings.Join(d.Dims, ", ")+")")
	}
	return append(notes, fmt.Sprintf("%s where A and B disagree: %s", eval.Nouns(len(vm.Disagree), "item"), ListSome(lines, 40)))
}

// ListSome lists up to n strings, then how many more there are.
func ListSome(ss []string, n int) string {
	if len(ss) <= n {
		return strings.Join(ss, ", ")
	}
	return strings.Join(ss[:n], ", ") + fmt.Sprintf(" and %d more", len(ss)-n)
}

// fitColumns renders a table whose first column labels the rows: whole
// when it fits width, else as several tables, each the label column and
// as many of the next columns, in order, as fit (at least one).
func fitColumns(head []string, rows [][]string, width int) (string, error) {
	pick := func(cols []int) ([]string, [][]string) {
		h := []string{head[0]}
		for _, c := range cols {
			h = append(h, head[c])
		}
		rs := make([][]string, len(rows))
		for i, r := range rows {
			rs[i] = []string{r[0]}
			for _, c := range cols {
				rs[i] = append(rs[i], r[c])
			}
		}
		return h, rs
	}
	draw := func(cols []int) (string, error) {
		h, rs := pick(cols)
		var b strings.Builder
		err := render(&b, h, rs, tw.AlignRight)
		return b.String(), err
	}
	var out strings.Builder
	var cols []int
	last := ""
	for c := 1; c < len(head); c++ {
		t, err := draw(append(cols, c))
		if err != nil {
			return "", err
		}
		if len(cols) > 0 && maxWidth(t) > width {
			out.WriteString(last)
			cols = nil
			if t, err = draw([]int{c}); err != nil {
				return "", err
			}
		}
		cols, last = append(cols, c), t
	}
	out.WriteString(last)
	return out.String(), nil
}

// AuditVerdict is audit's verdict against --min-kappa on the overall
// agreement, and whether it failed; "" when minKappa is negative (off).
// An undefined κ fails.
func AuditVerdict(overall stats.RaterAgreement, minKappa float64) (string, bool) {
	if minKappa < 0 {
		return "", false
	}
	k := "undefined"
	if overall.Kappa != nil {
		k = stats.FormatFloat(*overall.Kappa, 2)
	}
	if overall.Kappa == nil || *overall.Kappa < minKappa {
		return fmt.Sprintf("audit: FAIL: κ %s < --min-kappa %g: the judge disagrees with the labels more than allowed", k, minKappa), true
	}
	return fmt.Sprintf("audit: PASS: κ %s ≥ --min-kappa %g", k, minKappa), false
}
