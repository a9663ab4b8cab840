package dataset

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/psveval/psveval/eval"
)

// An Inspection describes a dataset: its schema and mapping, its items by
// question type, modality and source, its images and rubrics, and every
// problem found. [Inspect] builds one.
type Inspection struct {
	Path        string            `json:"path"`
	Format      string            `json:"format"`
	Columns     []Column          `json:"columns"`
	Mapping     map[string]string `json:"mapping"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	Items       int               `json:"items"`
	ByType      []Count           `json:"by_type"`
	ByModality  []Count           `json:"by_modality,omitempty"`
	BySource    []Count           `json:"by_source,omitempty"`
	Images      ImageStats        `json:"images"`
	Rubrics     RubricStats       `json:"rubrics"`
	Problems    []Problem         `json:"problems"`
}

// A Count is a label and how many items carry it.
type Count struct {
	Label string `json:"label"`
	N     int    `json:"n"`
}

// ImageStats summarises the images of a dataset. Percentiles are p0 (min),
// p50, p90, p99 and p100 (max).
type ImageStats struct {
	Count       int            `json:"count"`
	Distinct    int            `json:"distinct"`
	ItemsNone   int            `json:"items_without_image"`
	ItemsMulti  int            `json:"items_with_several"`
	Formats     []Count        `json:"formats"`
	ColorModels []Count        `json:"color_models"`
	Bytes       map[string]int `json:"bytes"`
	Pixels      map[string]int `json:"pixels"`
	Decoded     int            `json:"decoded"`
}

// RubricStats summarises the rubrics.
type RubricStats struct {
	Own         int            `json:"items_with_own_rubric"`
	Default     int            `json:"items_with_default_rubric"`
	DefaultHash string         `json:"default_rubric_sha256"`
	Criteria    map[string]int `json:"criteria_per_item"`
	TopDims     []Count        `json:"top_dims"`
}

// A Problem is something wrong or suspicious found in a dataset.
type Problem struct {
	Pos     string `json:"pos,omitempty"`
	ID      string `json:"id,omitempty"`
	Message string `json:"message"`
}

// InspectOptions configures [Inspect].
type InspectOptions struct {
	// Decode fully decodes every distinct image (not just its header), to
	// find truncated or corrupt image data. It costs CPU time.
	Decode bool
}

// Inspect walks ds once and describes it. Every bad item (a bad rubric,
// image or text, a duplicate id) is reported as a problem, and the walk
// goes on past it, so one inspection lists them all; the statistics are
// of the good items. A problem that ends the walk (an unreadable file) is
// reported too. The returned error is the first problem, so callers can
// fail.
func Inspect(ds *Dataset, opts InspectOptions) (*Inspection, error) {
	in := &Inspection{
		Path: ds.Path, Format: ds.Format, Columns: ds.Columns, Mapping: map[string]string{},
		Problems: []Problem{},
	}
	for r, c := range ds.Mapping {
		in.Mapping[string(r)] = c
	}
	if _, ok := ds.Mapping[RoleID]; !ok {
		in.Mapping[string(RoleID)] = "(row number)"
	}
	types, mods, srcs, formats, models, dims := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var sizes, pixels, ncrit []int
	distinct := map[string]bool{}
	fp := newFingerprinter()
	var walkErr error
	var bad []Problem
	ds.problems = &bad
	defer func() { ds.problems = nil }()
	for it, err := range ds.All() {
		if err != nil {
			walkErr = err
			var ie *eval.InputError
			p := Problem{Message: err.Error()}
			if errors.As(err, &ie) {
				p = Problem{Pos: ie.Pos, ID: ie.ID, Message: ie.Err.Error()}
			}
			in.Problems = append(in.Problems, p)
			break
		}
		fp.add(&it)
		in.Items++
		types[it.Type]++
		if v := it.Meta[string(RoleModality)]; v != "" {
			mods[v]++
		}
		if v := it.Meta[string(RoleSource)]; v != "" {
			srcs[v]++
		}
		switch len(it.Images) {
		case 0:
			in.Images.ItemsNone++
		case 1:
		default:
			in.Images.ItemsMulti++
		}
		for i := range it.Images {
			im := &it.Images[i]
			in.Images.Count++
			if distinct[im.SHA256] {
				continue
			}
			distinct[im.SHA256] = true
			formats[im.Format]++
			models[im.ColorModel]++
			sizes = append(sizes, int(im.Size))
			pixels = append(pixels, im.Width*im.Height)
			if opts.Decode {
				if _, err := im.Decode(); err != nil {
					in.Problems = append(in.Problems, Problem{Pos: it.Pos, ID: it.ID, Message: strings.Join(strings.Fields("image "+im.Path+" does not decode: "+err.Error()), " ")})
				} else {
					in.Images.Decoded++
				}
			}
		}
		if it.DefaultRubric {
			in.Rubrics.Default++
		} else {
			in.Rubrics.Own++
			for _, c := range it.Rubric {
				dims[c.Dim]++
			}
		}
		ncrit = append(ncrit, len(it.Rubric))
	}
	in.Problems = append(append([]Problem{}, bad...), in.Problems...)
	if walkErr == nil && len(bad) > 0 {
		msg := bad[0].Message
		if len(bad) > 1 {
			msg += fmt.Sprintf(" (and %d more bad items: psveval inspect lists them all)", len(bad)-1)
		}
		walkErr = &eval.InputError{File: ds.Path, Pos: bad[0].Pos, ID: bad[0].ID, Err: errors.New(msg)}
	}
	for _, s := range ds.Skipped {
		in.Problems = append(in.Problems, Problem{Pos: s.Pos, ID: s.ID, Message: "skipped: " + s.Reason})
	}
	if n := types[eval.NoType]; n > 0 {
		in.Problems = append(in.Problems, Problem{Message: eval.Nouns(n, "item") + " without a question type: they are reported as " + eval.NoType})
	}
	if walkErr == nil && len(bad) == 0 {
		in.Fingerprint = fp.sum()
	}
	in.ByType = counts(types, eval.TypeOrder)
	in.ByModality = counts(mods, nil)
	in.BySource = counts(srcs, nil)
	in.Images.Distinct = len(distinct)
	in.Images.Formats = counts(formats, nil)
	in.Images.ColorModels = counts(models, nil)
	in.Images.Bytes = percentiles(sizes)
	in.Images.Pixels = percentiles(pixels)
	in.Rubrics.DefaultHash = ds.Rubric.Hash
	in.Rubrics.Criteria = percentiles(ncrit)
	top := counts(dims, nil)
	if len(top) > 10 {
		top = top[:10]
	}
	in.Rubrics.TopDims = top
	return in, walkErr
}

// counts sorts a tally by order when given, else by count (descending),
// then label.
func counts(m map[string]int, order func(a, b string) int) []Count {
	out := make([]Count, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Count{k, m[k]})
	}
	if order != nil {
		slices.SortFunc(out, func(a, b Count) int { return order(a.Label, b.Label) })
	} else {
		slices.SortStableFunc(out, func(a, b Count) int { return cmp.Compare(b.N, a.N) })
	}
	return out
}

// percentiles returns nearest-rank p0, p50, p90, p99 and p100 of xs, or nil
// when xs is empty.
func percentiles(xs []int) map[string]int {
	if len(xs) == 0 {
		return nil
	}
	sort.Ints(xs)
	at := func(p float64) int {
		i := int(p*float64(len(xs))+0.999999) - 1
		return xs[min(max(i, 0), len(xs)-1)]
	}
	return map[string]int{"p0": xs[0], "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "p100": xs[len(xs)-1]}
}
