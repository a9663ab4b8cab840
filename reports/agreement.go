package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter/tw"
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

// Text renders the report as a table with its notes.
func (ar *AgreementReport) Text(w io.Writer) error {
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
	if _, err := fmt.Fprintln(w, ar.Title); err != nil {
		return err
	}
	if err := render(w, head, rows, tw.AlignRight); err != nil {
		return err
	}
	width := ar.Width
	if width == 0 {
		width = DefaultWidth
	}
	lines := append([]string{fmt.Sprintf("κ is Cohen's kappa with a 95%% percentile bootstrap interval over items; precision and recall are of %s's \"met\" against %s's", ar.Got, ar.Ref)}, ar.Notes...)
	for _, l := range lines {
		if _, err := io.WriteString(w, wrap(l, width, "    ")); err != nil {
			return err
		}
	}
	return nil
}

// JSON renders the report for machines.
func (ar *AgreementReport) JSON(w io.Writer) error {
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
