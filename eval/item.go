package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // register decoders for DecodeConfig and inspect
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/psveval/psveval/rubric"
)

// An Item is one test case.
type Item struct {
	// ID is unique within the dataset.
	ID string
	// Index is the item's 0-based position in the dataset.
	Index int
	// Pos names where the item was read, as "file:line 12" or "file: row 12".
	Pos string
	// Type is the question type: one of [QuestionTypes] when the label
	// matches one after normalisation, otherwise the label as read. It is
	// "(none)" when the item has no label.
	Type      string
	Question  string
	Reference string
	Images    []Image
	// Rubric holds the item's own criteria, or the default rubric's when
	// DefaultRubric is true.
	Rubric        []rubric.Criterion
	DefaultRubric bool
	// Meta holds every other scalar column as text: modality, main_topic,
	// source, and anything else the dataset carries.
	Meta map[string]string
	// Terms holds the med_terms list.
	Terms []string
	// Cluster is the key of the items whose outcomes go together, which
	// intervals resample as one (see [ClusterOf]); "" makes the item a
	// cluster of its own.
	Cluster string
}

// The ways of keying clusters: by image (the default), none (every item
// its own cluster), or else by the named dataset column.
const (
	ClusterByImage = "image"
	ClusterByNone  = "none"
)

// ClusterOf returns an item's cluster key under by: for "image", the
// SHA-256 of its image's bytes (of its images' digests, for several),
// "" for an item without an image; for "none", ""; for a column name,
// the item's value in that column ("" when it has none). Items with ""
// are clusters of their own.
func ClusterOf(it *Item, by string) string {
	switch by {
	case ClusterByNone:
		return ""
	case ClusterByImage, "":
		switch len(it.Images) {
		case 0:
			return ""
		case 1:
			return it.Images[0].SHA256
		}
		h := sha256.New()
		for _, im := range it.Images {
			h.Write([]byte(im.SHA256))
			h.Write([]byte{0})
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	return it.Meta[by]
}

// RubricJSON returns the item's criteria as JSON, the form judgment keys
// and the canonical item hash.
func (it *Item) RubricJSON() []byte {
	return rubric.AppendJSON(nil, it.Rubric) // json.Marshal's bytes, without reflection
}

// NoType is the question type of an item whose type label is missing.
const NoType = "(none)"

// QuestionTypes are PSV2026's six question types, in the paper's order.
var QuestionTypes = []string{
	"Visual Perception",
	"Factual Verification",
	"Comparative Analysis",
	"Mechanistic Reasoning",
	"Diagnostic Inference",
	"Clinical Management",
}

// QuestionTypeAbbrev gives the paper's column abbreviations.
var QuestionTypeAbbrev = map[string]string{
	"Visual Perception":     "VP",
	"Factual Verification":  "FV",
	"Comparative Analysis":  "CA",
	"Mechanistic Reasoning": "MR",
	"Diagnostic Inference":  "DI",
	"Clinical Management":   "CM",
}

var typeByKey = func() map[string]string {
	m := make(map[string]string, len(QuestionTypes))
	for _, t := range QuestionTypes {
		m[typeKey(t)] = t
		m[typeKey(QuestionTypeAbbrev[t])] = t
	}
	return m
}()

func typeKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '\t', '_', '-':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NormalizeType maps a question-type label to its canonical form: one of
// [QuestionTypes] when it or its paper abbreviation ("VP", "cm") matches
// after ignoring case, spaces, underscores and hyphens
// ("visual_perception", "Visual-Perception"), otherwise the
// label with surrounding space removed. An empty label becomes [NoType].
func NormalizeType(label string) string {
	label = strings.TrimSpace(label)
	if label == "" {
		return NoType
	}
	if _, ok := QuestionTypeAbbrev[label]; ok {
		return label
	}
	if t, ok := typeByKey[typeKey(label)]; ok {
		return t
	}
	return label
}

// TypeOrder sorts question types: PSV2026's six in the paper's order first,
// then the others alphabetically. It returns a negative number when a sorts
// before b, as [slices.SortFunc] wants.
func TypeOrder(a, b string) int {
	ia, ib := typeRank(a), typeRank(b)
	if ia != ib {
		return ia - ib
	}
	return strings.Compare(a, b)
}

func typeRank(t string) int {
	for i, q := range QuestionTypes {
		if q == t {
			return i
		}
	}
	if t == NoType {
		return len(QuestionTypes) + 1
	}
	return len(QuestionTypes)
}

// An Image is one image of an item. Its bytes are either held (when the
// dataset embeds them) or read from Path when asked for; pixels are decoded
// only by whoever needs them. Width, Height and Format come from the image
// header, read when the item was loaded.
type Image struct {
	// Path is the image file's path as the dataset gives it, or "" when
	// the bytes are embedded.
	Path string
	// MIME is sniffed from the bytes: image/jpeg, image/png, image/gif.
	MIME string
	// Format is the decoder's name: jpeg, png, gif.
	Format string
	// ColorModel names the header's colour model: "ycbcr", "gray", "cmyk"...
	ColorModel    string
	Width, Height int
	Size          int64
	// SHA256 is the hex digest of the bytes.
	SHA256 string
	data   []byte
	file   string
}

// WithoutData returns the item with its images' bytes let go: each image
// keeps its metadata and digest (what keys and results are made of), and
// an image of a file still reads it from disk. The item's other fields
// are shared.
func (it Item) WithoutData() Item {
	if len(it.Images) == 0 {
		return it
	}
	images := make([]Image, len(it.Images))
	for i, im := range it.Images {
		im.data = nil
		images[i] = im
	}
	it.Images = images
	return it
}

// Data returns the image's bytes, reading them from disk if the dataset
// refers to a file. The caller must not modify the returned slice.
func (im *Image) Data() ([]byte, error) {
	if im.data != nil || im.file == "" {
		return im.data, nil
	}
	b, err := os.ReadFile(im.file)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", im.Path, err)
	}
	return b, nil
}

// Decode decodes the image's pixels.
func (im *Image) Decode() (image.Image, error) {
	b, err := im.Data()
	if err != nil {
		return nil, err
	}
	m, _, err := image.Decode(bytes.NewReader(b))
	return m, err
}

// NewImage returns the image whose bytes are b, which it keeps, after
// checking b's header and end: an error says why b is not a whole JPEG,
// PNG or GIF image.
func NewImage(b []byte) (Image, error) {
	im, err := header(b)
	if err != nil {
		return Image{}, err
	}
	im.data = b
	return im, nil
}

// NewImageFile returns the image stored in the file at path, whose bytes
// b are: it checks them as NewImage does but keeps only the path, and
// Data reads the file again when asked.
func NewImageFile(path string, b []byte) (Image, error) {
	im, err := header(b)
	if err != nil {
		return Image{}, err
	}
	im.file = path
	return im, nil
}

// header checks b's header and fills in everything but the bytes' owner.
func header(b []byte) (Image, error) {
	if len(b) == 0 {
		return Image{}, fmt.Errorf("image is empty")
	}
	mime := http.DetectContentType(b)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		if strings.HasPrefix(mime, "image/") {
			return Image{}, fmt.Errorf("image (%s, %d bytes) does not decode: %w; psveval reads JPEG, PNG and GIF", mime, len(b), err)
		}
		return Image{}, fmt.Errorf("image (%d bytes, starting %q) is not a JPEG, PNG or GIF image", len(b), head(b, 8))
	}
	if !complete(format, b) {
		return Image{}, fmt.Errorf("image (%s, %d bytes) does not decode: the data is truncated (no %s end marker)", mime, len(b), format)
	}
	sum := sha256.Sum256(b)
	if err := decodeOnce(sum, b); err != nil {
		return Image{}, fmt.Errorf("image (%s, %d bytes) does not decode: %w", mime, len(b), err)
	}
	return Image{
		MIME:       mime,
		Format:     format,
		ColorModel: colorModelName(cfg),
		Width:      cfg.Width,
		Height:     cfg.Height,
		Size:       int64(len(b)),
		SHA256:     hex.EncodeToString(sum[:]),
	}, nil
}

// complete reports whether b ends the way a whole image of its format
// does. Only the header is decoded when an item is read, so this cheap
// check is what catches a file cut short; psveval inspect --decode decodes
// the pixels too.
func complete(format string, b []byte) bool {
	tail := b[max(0, len(b)-64):]
	switch format {
	case "jpeg":
		return bytes.Contains(tail, []byte{0xff, 0xd9})
	case "png":
		return bytes.Contains(tail, []byte("IEND"))
	case "gif":
		return bytes.IndexByte(tail[max(0, len(tail)-16):], 0x3b) >= 0
	}
	return true
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func colorModelName(cfg image.Config) string {
	if _, ok := cfg.ColorModel.(color.Palette); ok {
		return "paletted" // a Palette is a slice: it must not reach the == below
	}
	for _, m := range []struct {
		name  string
		model color.Model
	}{
		{"ycbcr", color.YCbCrModel}, {"cmyk", color.CMYKModel}, {"gray", color.GrayModel},
		{"gray16", color.Gray16Model}, {"rgba", color.RGBAModel}, {"rgba64", color.RGBA64Model},
		{"nrgba", color.NRGBAModel}, {"nrgba64", color.NRGBA64Model},
	} {
		if cfg.ColorModel == m.model {
			return m.name
		}
	}
	return "other"
}

// decoded holds, by content digest, the outcome of decoding each distinct
// image's pixels (nil or the error): items share images, so each is
// decoded once however many items show it.
var decoded sync.Map

// decodeOnce decodes b's pixels the first time its digest is seen: a
// header and end marker around a garbage body pass the cheap checks but
// not this. Dataset readers call it from their parallel workers.
func decodeOnce(sum [32]byte, b []byte) error {
	if v, ok := decoded.Load(sum); ok {
		err, _ := v.(error)
		return err
	}
	_, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		decoded.Store(sum, err)
		return err
	}
	decoded.Store(sum, nil)
	return nil
}
