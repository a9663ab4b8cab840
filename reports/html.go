package reports

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/jpeg"
	"io"
	"strings"

	"golang.org/x/image/draw"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
)

// Image modes for an HTML report.
const (
	ImagesNone  = "none"
	ImagesThumb = "thumb"
	ImagesFull  = "full"
)

// ThumbSide is the longest side, in pixels, of an HTML report's
// thumbnails.
const ThumbSide = 256

// An HTMLRun is one run of an HTML report: its row of the table and its
// results, item by item.
type HTMLRun struct {
	Run
	Results []eval.Result
}

// HTMLOptions configure an HTML report.
type HTMLOptions struct {
	Options
	// Images maps an item id to its images' data URIs (see Thumbnail);
	// nil shows none.
	Images map[string][]string
	// Notes are added under the table (why images are missing, say).
	Notes []string
}

//go:embed html.tmpl
var htmlPage string

var htmlTemplate = template.Must(template.New("page").Parse(htmlPage))

// The page's data, read by its script. html/template escapes it for the
// script context, so no text from a result can end the script element.
type pageItem struct {
	ID       string            `json:"id"`
	Type     string            `json:"type"`
	Question string            `json:"question"`
	Ref      string            `json:"reference"`
	Meta     map[string]string `json:"meta,omitempty"`
	Images   []int             `json:"images,omitempty"` // indexes into pageData.Images
	Runs     []*pageVerdict    `json:"runs"`             // nil where a run lacks the item
}

type pageVerdict struct {
	Answer     string          `json:"answer"`
	Status     string          `json:"status"`
	Score      *float64        `json:"score"`
	Error      string          `json:"error,omitempty"`
	Unscorable string          `json:"unscorable,omitempty"`
	Criteria   []pageCriterion `json:"criteria"`
}

type pageCriterion struct {
	Dim         string `json:"dim"`
	Met         *bool  `json:"met"`
	Explanation string `json:"explanation,omitempty"`
}

type pageData struct {
	Runs   []string    `json:"runs"`
	Images []string    `json:"images"`
	Items  []*pageItem `json:"items"`
}

type pageRun struct {
	Label, Model, Served, Judge, Prompt, Dataset, Rule, Created string
}

// HTML writes one self-contained page: the table with its footnotes and
// the runs' settings, then every item with its image, question,
// reference, each run's answer, status, score and verdicts, behind
// filters that combine and live in the URL fragment. Nothing on the page
// is fetched: images are data URIs and a Content-Security-Policy allows
// nothing external. Untrusted text reaches the page only as JSON data that
// the script writes with textContent.
func HTML(w io.Writer, runs []HTMLRun, opts HTMLOptions) error {
	rs := make([]Run, len(runs))
	for i, r := range runs {
		rs[i] = r.Run
	}
	opts.Width = 1 << 20
	t := build(rs, opts.Options)
	data := pageData{Runs: rowLabels(rs), Images: []string{}}
	byID := map[string]*pageItem{}
	imageIndex := map[string]int{}
	for ri, r := range runs {
		for _, res := range r.Results {
			it, ok := byID[res.ID]
			if !ok {
				it = &pageItem{ID: res.ID, Type: res.QuestionType, Question: res.Question, Ref: res.Reference, Meta: res.Meta, Runs: make([]*pageVerdict, len(runs))}
				for _, uri := range opts.Images[res.ID] {
					k, seen := imageIndex[uri]
					if !seen {
						k = len(data.Images)
						imageIndex[uri] = k
						data.Images = append(data.Images, uri)
					}
					it.Images = append(it.Images, k)
				}
				byID[res.ID] = it
				data.Items = append(data.Items, it)
			}
			v := &pageVerdict{Answer: res.Answer, Status: res.Status, Score: res.Score, Error: res.Error, Unscorable: res.Unscorable}
			for _, c := range res.Criteria {
				v.Criteria = append(v.Criteria, pageCriterion{c.Dim, c.Met, c.Explanation})
			}
			it.Runs[ri] = v
		}
	}
	var page struct {
		Title   string
		Header  []string
		Rows    [][]string
		Legend  string
		Notes   []string
		Runs    []pageRun
		Data    pageData
		Summary string
	}
	page.Title = opts.Title
	if page.Title == "" {
		page.Title = "psveval report: " + strings.Join(data.Runs, ", ")
	}
	page.Header, page.Rows, page.Legend = t.header(), t.strings(), t.legend
	for i, n := range append(t.notes, opts.Notes...) {
		page.Notes = append(page.Notes, fmt.Sprintf("[%d] %s", i+1, n))
	}
	for i, r := range runs {
		pr := pageRun{Label: data.Runs[i]}
		if m := r.Manifest; m != nil {
			pr.Model, pr.Served, pr.Dataset, pr.Rule, pr.Created = m.Model.Model, m.Model.ServedModel, rundir.ShortHash(m.Dataset.Fingerprint), m.Scoring.Rule, m.Created
			var js, ps []string
			for _, j := range m.Judges {
				js = append(js, strings.TrimSpace(j.Model+" ("+j.Mode+", "+j.FormatUsed+")"))
				ps = append(ps, j.Prompt.Name+" "+rundir.ShortHash(j.Prompt.SHA256))
			}
			pr.Judge, pr.Prompt = strings.Join(js, "; "), strings.Join(ps, "; ")
		}
		page.Runs = append(page.Runs, pr)
	}
	page.Data = data
	page.Summary = eval.Nouns(len(data.Items), "item") + ", " + eval.Nouns(len(runs), "run")
	return htmlTemplate.Execute(w, page)
}

// Thumbnail returns the image as a data URI: as it is with mode
// ImagesFull, else scaled so that its longest side is at most ThumbSide
// and encoded as JPEG.
func Thumbnail(im *eval.Image, mode string) (string, error) {
	b, err := im.Data()
	if err != nil {
		return "", err
	}
	if mode == ImagesFull {
		return "data:" + im.MIME + ";base64," + base64.StdEncoding.EncodeToString(b), nil
	}
	src, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	sb := src.Bounds()
	w, h := sb.Dx(), sb.Dy()
	if s := max(w, h); s > ThumbSide {
		w, h = max(1, w*ThumbSide/s), max(1, h*ThumbSide/s)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, sb, draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 70}); err != nil {
		return "", err
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(out.Bytes()), nil
}
