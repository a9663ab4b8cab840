package dataset

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/psveval/psveval/eval"
)

// images reads an image column's value: a struct {bytes, path}, a list of
// those, raw bytes (parquet), base64 text or a data: URI (JSONL), or a path.
func (d *Dataset) images(v any) ([]eval.Image, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]eval.Image, 0, len(x))
		for i, e := range x {
			im, err := d.image(e)
			if err != nil {
				return nil, fmt.Errorf("image %d: %w", i+1, err)
			}
			out = append(out, im)
		}
		return out, nil
	default:
		im, err := d.image(v)
		if err != nil {
			return nil, err
		}
		return []eval.Image{im}, nil
	}
}

func (d *Dataset) image(v any) (eval.Image, error) {
	switch x := v.(type) {
	case map[string]any:
		if b, ok := x["bytes"].(string); ok && b != "" {
			return d.inline(b)
		}
		if p, ok := x["path"].(string); ok && p != "" {
			return d.file(p)
		}
		return eval.Image{}, errors.New("image struct has neither bytes nor path")
	case string:
		if d.src.rawBytes() {
			// A parquet binary column holds the bytes; a string column a path.
			if looksLikePath(x) {
				return d.file(x)
			}
			return d.inline(x)
		}
		if strings.HasPrefix(x, "data:") || len(x) > 1024 {
			return d.inline(x)
		}
		return d.file(x)
	}
	return eval.Image{}, fmt.Errorf("image is %s, want {bytes, path}, a path or base64 bytes", jsonKind(v))
}

func looksLikePath(s string) bool {
	if len(s) > 4096 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return filepath.Ext(s) != ""
}

// inline decodes embedded image bytes: raw in parquet, base64 or a data:
// URI in JSONL.
func (d *Dataset) inline(s string) (eval.Image, error) {
	var b []byte
	if d.src.rawBytes() {
		b = []byte(s)
	} else {
		if strings.HasPrefix(s, "data:") {
			_, payload, ok := strings.Cut(s, ",")
			if !ok || !strings.Contains(s[:len(s)-len(payload)], ";base64") {
				return eval.Image{}, errors.New("image data: URI is not base64")
			}
			s = payload
		}
		var err error
		if b, err = base64.StdEncoding.DecodeString(s); err != nil {
			return eval.Image{}, fmt.Errorf("image bytes are not valid base64: %w", err)
		}
	}
	if int64(len(b)) > d.opts.MaxImageBytes {
		return eval.Image{}, fmt.Errorf("image is %d bytes, over the %d-byte limit (--max-image-bytes)", len(b), d.opts.MaxImageBytes)
	}
	return eval.NewImage(b)
}

// file resolves an image path against the image root, refusing any path
// that leads outside it, and reads the image's header and digest. Images
// shared by several items are read once per Dataset.
func (d *Dataset) file(p string) (eval.Image, error) {
	d.imgMu.Lock()
	im, ok := d.imgPath[p]
	d.imgMu.Unlock()
	if ok {
		return im, nil // resolved before: resolving walks every folder of the path
	}
	abs, err := d.resolve(p)
	if err != nil {
		return eval.Image{}, err
	}
	d.imgMu.Lock()
	im, ok = d.imgSeen[abs]
	if ok {
		im.Path = p
		d.imgPath[p] = im
	}
	d.imgMu.Unlock()
	if ok {
		return im, nil
	}
	st, err := os.Stat(abs)
	if err != nil {
		return eval.Image{}, fmt.Errorf("image %q: %w", p, err)
	}
	if st.Size() > d.opts.MaxImageBytes {
		return eval.Image{}, fmt.Errorf("image %q is %d bytes, over the %d-byte limit (--max-image-bytes)", p, st.Size(), d.opts.MaxImageBytes)
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return eval.Image{}, fmt.Errorf("image %q: %w", p, err)
	}
	if im, err = eval.NewImageFile(abs, b); err != nil {
		return eval.Image{}, fmt.Errorf("image %q: %w", p, err)
	}
	im.Path = p
	d.imgMu.Lock()
	d.imgSeen[abs] = im
	d.imgPath[p] = im
	d.imgMu.Unlock()
	return im, nil
}

func (d *Dataset) resolve(p string) (string, error) {
	root, err := filepath.EvalSymlinks(d.root)
	if err != nil {
		return "", fmt.Errorf("image root %s: %w", d.root, err)
	}
	var tries []string
	if filepath.IsAbs(p) {
		tries = []string{filepath.Clean(p)}
	} else {
		tries = []string{filepath.Join(root, p), filepath.Join(root, "images", p)}
	}
	for i, c := range tries {
		real, err := filepath.EvalSymlinks(c)
		if err != nil {
			if i < len(tries)-1 && errors.Is(err, os.ErrNotExist) {
				continue
			}
			if !inside(root, c) {
				return "", outside(p, d.root)
			}
			return "", fmt.Errorf("image %q does not exist (looked in %s and its images/ folder; set --image-root if the images lie elsewhere)", p, d.root)
		}
		if !inside(root, real) {
			return "", outside(p, d.root)
		}
		return real, nil
	}
	panic("unreachable")
}

func outside(p, root string) error {
	return fmt.Errorf("image path %q points outside the dataset's folder %s; image paths must stay inside it (set --image-root to choose another folder)", p, root)
}

func inside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
