package reports

import (
	"io"
	"path/filepath"
	"sync"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/sourcegraph/conc/pool"
)

// htmlImages reads the images of the dataset the run read, as data URIs
// by item id, thumbnails or whole as mode says. An image shared by several
// items is converted once. It returns nil and a note when the dataset is
// not where the manifest says. With want, only the items it accepts.
func htmlImages(m *rundir.Manifest, imageRoot, mode string, want func(id string) bool) (map[string][]string, string) {
	if mode == ImagesNone || m == nil {
		return nil, ""
	}
	ds, err := dataset.Open(m.Dataset.Path, m.DatasetOptions(imageRoot))
	if err != nil {
		return nil, "no images: " + err.Error() + " (the dataset has moved? give --image-root, or --images none)"
	}
	var mu sync.Mutex
	uris := map[string]string{} // by SHA-256
	out := map[string][]string{}
	p := pool.New().WithErrors().WithMaxGoroutines(4)
	for it, err := range ds.All() {
		if err != nil {
			return nil, "no images: " + err.Error()
		}
		if want != nil && !want(it.ID) {
			continue
		}
		for i := range it.Images {
			im := it.Images[i]
			id, k := it.ID, i
			mu.Lock()
			out[id] = append(out[id], "")
			mu.Unlock()
			p.Go(func() error {
				mu.Lock()
				uri, done := uris[im.SHA256]
				mu.Unlock()
				if !done {
					var err error
					if uri, err = Thumbnail(&im, mode); err != nil {
						return err
					}
					mu.Lock()
					uris[im.SHA256] = uri
					mu.Unlock()
				}
				mu.Lock()
				out[id][k] = uri
				mu.Unlock()
				return nil
			})
		}
	}
	if err := p.Wait(); err != nil {
		return nil, "no images: " + err.Error()
	}
	return out, ""
}

// WriteHTMLFile writes the offline HTML page of runs to path, atomically,
// labelled by labels where given, with the images of the dataset the first
// run read (relative to imageRoot, if it moved) as mode says: ImagesNone,
// ImagesThumb or ImagesFull.
func WriteHTMLFile(path string, runs []*rundir.RunDir, labels []string, opts Options, imageRoot, mode string) error {
	var hr []HTMLRun
	for i, r := range runs {
		var results []eval.Result
		if err := rundir.ReadResults(filepath.Join(r.Dir, rundir.ResultsFile), func(res eval.Result) error {
			results = append(results, res)
			return nil
		}); err != nil {
			return err
		}
		run := Run{Label: r.Label(), Dir: r.Dir, Summary: r.Summary, Manifest: r.Manifest}
		if i < len(labels) {
			run.Label = labels[i]
		}
		hr = append(hr, HTMLRun{Run: run, Results: results})
	}
	images, note := htmlImages(runs[0].Manifest, imageRoot, mode, nil)
	ho := HTMLOptions{Options: opts, Images: images}
	if note != "" {
		ho.Notes = append(ho.Notes, note)
	}
	return store.WriteFileFunc(path, func(w io.Writer) error { return HTML(w, hr, ho) })
}
