package reports

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"path/filepath"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
)

// A LabelSheet is a random sample of a run's items for a person to
// label, with the record of how it was drawn: written as a JSONL sheet
// (criteria with "met": null, to fill in) and as one offline HTML page
// with a checkbox per criterion and an Export button that writes the
// labels file. Neither shows the judge's verdicts, so as not to lead
// the labeller.
type LabelSheet struct {
	Record *rundir.SampleRecord
	Items  []SheetItem
	// Notes say what the sheet lacks (images, descriptions), and why.
	Notes []string
}

// A SheetItem is one drawn item as the labeller sees it.
type SheetItem struct {
	ID        string           `json:"id"`
	Type      string           `json:"type"`
	Question  string           `json:"question"`
	Reference string           `json:"reference"`
	Answer    string           `json:"answer"`
	Images    []string         `json:"images,omitempty"` // data URIs
	Criteria  []SheetCriterion `json:"criteria"`
}

// A SheetCriterion is one criterion to mark.
type SheetCriterion struct {
	Dim         string `json:"dim"`
	Points      int64  `json:"points"`
	Description string `json:"description,omitempty"`
}

// NewLabelSheet builds the sheet of the drawn results, with the
// criteria's descriptions and the images of the dataset the run read
// (relative to imageRoot, if it moved; images as mode says). Where the
// dataset cannot be read the sheet says so in Notes and goes without.
func NewLabelSheet(rec *rundir.SampleRecord, drawn []eval.Result, m *rundir.Manifest, imageRoot, mode string) *LabelSheet {
	sh := &LabelSheet{Record: rec}
	want := map[string]bool{}
	for _, r := range drawn {
		want[r.ID] = true
	}
	desc := map[string]map[string]string{}
	if m != nil {
		if ds, err := dataset.Open(m.Dataset.Path, m.DatasetOptions(imageRoot)); err != nil {
			sh.Notes = append(sh.Notes, "no criterion descriptions: "+err.Error())
		} else {
			for it, err := range ds.All() {
				if err != nil {
					sh.Notes = append(sh.Notes, "no criterion descriptions: "+err.Error())
					break
				}
				if want[it.ID] {
					d := map[string]string{}
					for _, c := range it.Rubric {
						d[c.Dim] = c.Description
					}
					desc[it.ID] = d
				}
			}
		}
	}
	images, note := htmlImages(m, imageRoot, mode, func(id string) bool { return want[id] })
	if note != "" {
		sh.Notes = append(sh.Notes, note)
	}
	for _, r := range drawn {
		si := SheetItem{ID: r.ID, Type: r.QuestionType, Question: r.Question, Reference: r.Reference, Answer: r.Answer, Images: images[r.ID]}
		for _, c := range r.Criteria {
			si.Criteria = append(si.Criteria, SheetCriterion{Dim: c.Dim, Points: c.Points, Description: desc[r.ID][c.Dim]})
		}
		sh.Items = append(sh.Items, si)
	}
	return sh
}

// WriteJSONL writes the sheet as a labels file to fill in: the draw's
// record, then a line per criterion with "met": null.
func (sh *LabelSheet) WriteJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"sample": sh.Record}); err != nil {
		return err
	}
	for _, it := range sh.Items {
		for _, c := range it.Criteria {
			line := struct {
				ID          string `json:"id"`
				Dim         string `json:"dim"`
				Met         *bool  `json:"met"`
				Description string `json:"description,omitempty"`
			}{it.ID, c.Dim, nil, c.Description}
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
	}
	return nil
}

//go:embed sheet.tmpl
var sheetPage string

var sheetTemplate = template.Must(template.New("sheet").Parse(sheetPage))

// HTML writes the sheet as one self-contained page. Text from the run
// reaches it only as JSON data that the script writes with textContent;
// a Content-Security-Policy lets nothing be fetched, and the Export
// button writes the labels file from the page itself.
func (sh *LabelSheet) HTML(w io.Writer) error {
	page := struct {
		Title, Design, File string
		Record              map[string]any
		Items               []SheetItem
		Notes               []string
	}{
		Title:  "psveval label sheet: " + sh.Record.Run,
		Design: sh.Record.Design(),
		Record: map[string]any{"sample": sh.Record},
		File:   "labels-" + strings.TrimSuffix(filepath.Base(sh.Record.Run), string(filepath.Separator)) + ".jsonl",
		Items:  sh.Items,
		Notes:  sh.Notes,
	}
	return sheetTemplate.Execute(w, page)
}

// WriteFiles writes the sheet to path (JSONL) and beside it its HTML page
// (path with .html for its extension), each atomically, and returns the
// page's path.
func (sh *LabelSheet) WriteFiles(path string) (string, error) {
	if err := store.WriteFileFunc(path, sh.WriteJSONL); err != nil {
		return "", err
	}
	page := strings.TrimSuffix(path, filepath.Ext(path)) + ".html"
	return page, store.WriteFileFunc(page, sh.HTML)
}

// DrawLabelSheet draws a random sample of the run in dir (see
// [rundir.DrawSample]) and writes its sheet to out and its HTML page
// beside it, with the dataset's images as mode says (relative to
// imageRoot if it moved). It returns the sheet and the page's path.
func DrawLabelSheet(dir string, opts rundir.SampleOptions, out, imageRoot, mode string) (*LabelSheet, string, error) {
	m, err := rundir.Open(dir)
	if err != nil {
		return nil, "", err
	}
	rec, drawn, err := rundir.DrawSample(dir, opts)
	if err != nil {
		return nil, "", err
	}
	sheet := NewLabelSheet(rec, drawn, m, imageRoot, mode)
	page, err := sheet.WriteFiles(out)
	return sheet, page, err
}
