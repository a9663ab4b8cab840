package main

import (
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/psveval/psveval/cmd/internal/cmdline"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
	"github.com/psveval/psveval/reports"
)

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
		return cmdline.Usagef("--images %q: want none, thumb or full", h.images)
	}
	if format == "html" && h.out == "" {
		return cmdline.Usagef("--format html writes a file: give -o FILE")
	}
	return cmdline.CheckOutFile("-o", h.out)
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
	if err := reports.WriteHTMLFile(h.out, runs, labels, opts, h.imageRoot, h.images); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", h.out)
	return nil
}
