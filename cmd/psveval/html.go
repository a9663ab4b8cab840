package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"

	"github.com/sourcegraph/conc/pool"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/reports"
)

// htmlImages reads the images of the dataset the run read, as data URIs
// by item id, thumbnails or whole as mode says. An image shared by several
// items is converted once. It returns nil and a note when the dataset is
// not where the manifest says.
func htmlImages(m *rundir.Manifest, imageRoot, mode string) (map[string][]string, string) {
	if mode == reports.ImagesNone || m == nil {
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
					if uri, err = reports.Thumbnail(&im, mode); err != nil {
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

// writeHTML writes the HTML page of runs to path.
func writeHTML(path string, runs []*rundir.RunDir, labels []string, opts reports.Options, imageRoot, mode string) error {
	var hr []reports.HTMLRun
	for i, r := range runs {
		var results []eval.Result
		if err := rundir.ReadResults(filepath.Join(r.Dir, rundir.ResultsFile), func(res eval.Result) error {
			results = append(results, res)
			return nil
		}); err != nil {
			return err
		}
		run := reports.Run{Label: r.Label(), Dir: r.Dir, Summary: r.Summary, Manifest: r.Manifest}
		if i < len(labels) {
			run.Label = labels[i]
		}
		hr = append(hr, reports.HTMLRun{Run: run, Results: results})
	}
	images, note := htmlImages(runs[0].Manifest, imageRoot, mode)
	ho := reports.HTMLOptions{Options: opts, Images: images}
	if note != "" {
		ho.Notes = append(ho.Notes, note)
	}
	return store.WriteFileFunc(path, func(w io.Writer) error { return reports.HTML(w, hr, ho) })
}

// htmlFlags are the output flags of report and compare.
type htmlFlags struct {
	out, images, imageRoot string
}

func (h *htmlFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&h.out, "o", "", "write to this `file` instead of stdout (required for html)")
	fs.StringVar(&h.images, "images", reports.ImagesThumb, "html: none, thumb (longest side 256 px, JPEG) or full")
	fs.StringVar(&h.imageRoot, "image-root", "", "html: `folder` the dataset's image paths are relative to, if it moved")
}

func (h *htmlFlags) validate(format string) error {
	if !slices.Contains([]string{reports.ImagesNone, reports.ImagesThumb, reports.ImagesFull}, h.images) {
		return usageErrorf("--images %q: want none, thumb or full", h.images)
	}
	if format == "html" && h.out == "" {
		return usageErrorf("--format html writes a file: give -o FILE")
	}
	return nil
}

// output writes through write to -o's file, atomically, or to stdout.
func (h *htmlFlags) output(stdout io.Writer, write func(io.Writer) error) error {
	if h.out == "" {
		return write(stdout)
	}
	return store.WriteFileFunc(h.out, write)
}

// write writes the HTML page of runs to -o's file.
func (h *htmlFlags) write(stderr io.Writer, runs []*rundir.RunDir, labels []string, opts reports.Options) error {
	if err := writeHTML(h.out, runs, labels, opts, h.imageRoot, h.images); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", h.out)
	return nil
}
