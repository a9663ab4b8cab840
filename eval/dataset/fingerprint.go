package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"maps"
	"slices"
	"strconv"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
	"github.com/psveval/psveval/rubric"
)

// A Fingerprint identifies exactly what a dataset walk evaluated.
type Fingerprint struct {
	// SHA256 is the hex digest over every item's canonical form, in order.
	SHA256 string `json:"sha256"`
	// Items counts the items; Skipped lists those left out. WithImages
	// counts the items that carry an image.
	Items      int         `json:"items"`
	WithImages int         `json:"items_with_images,omitempty"`
	Skipped    []eval.Skip `json:"skipped,omitempty"`
}

// FingerprintOf walks ds once and returns its fingerprint. Two datasets
// (say a parquet file and its JSONL twin) with the same items in the same
// order have the same fingerprint.
func FingerprintOf(ds *Dataset) (Fingerprint, error) {
	fp := newFingerprinter()
	for it, err := range ds.all(true, true) { // before the run: every core is free
		if err != nil {
			return Fingerprint{}, err
		}
		fp.add(&it)
	}
	return Fingerprint{SHA256: fp.sum(), Items: fp.n, WithImages: fp.images, Skipped: ds.Skipped}, nil
}

// A fingerprinter hashes items' canonical forms, length-prefixed, in order.
type fingerprinter struct {
	h         hash.Hash
	n, images int
	buf, num  []byte // an item's canonical form and its length, reused
}

func newFingerprinter() *fingerprinter { return &fingerprinter{h: sha256.New()} }

func (f *fingerprinter) add(it *eval.Item) {
	f.buf = appendCanonical(f.buf[:0], it)
	f.num = append(strconv.AppendInt(f.num[:0], int64(len(f.buf)), 10), ':')
	f.h.Write(f.num)
	f.h.Write(f.buf)
	f.n++
	if len(it.Images) > 0 {
		f.images++
	}
}

func (f *fingerprinter) sum() string { return hex.EncodeToString(f.h.Sum(nil)) }

// appendCanonical appends it.Canonical() to b, byte for byte, without
// reflection (eval, which owns the form, imports none of its
// sub-packages; FuzzAppendCanonical holds the two equal).
func appendCanonical(b []byte, it *eval.Item) []byte {
	b = jsonscan.AppendString(append(b, `{"id":`...), it.ID, true)
	b = jsonscan.AppendString(append(b, `,"type":`...), it.Type, true)
	b = jsonscan.AppendString(append(b, `,"question":`...), it.Question, true)
	b = jsonscan.AppendString(append(b, `,"reference":`...), it.Reference, true)
	b = append(b, `,"images":[`...)
	for i, im := range it.Images {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonscan.AppendString(b, im.SHA256, true)
	}
	b = rubric.AppendJSON(append(b, `],"rubric":`...), it.Rubric)
	b = append(b, `,"meta":`...)
	if it.Meta == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(it.Meta)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(jsonscan.AppendString(b, k, true), ':')
			b = jsonscan.AppendString(b, it.Meta[k], true)
		}
		b = append(b, '}')
	}
	b = append(b, `,"terms":`...)
	if it.Terms == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range it.Terms {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscan.AppendString(b, t, true)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
