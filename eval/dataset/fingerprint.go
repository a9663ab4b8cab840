package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/internal/lines"
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
	f.buf = lines.AppendCanonical(f.buf[:0], it)
	f.num = append(strconv.AppendInt(f.num[:0], int64(len(f.buf)), 10), ':')
	f.h.Write(f.num)
	f.h.Write(f.buf)
	f.n++
	if len(it.Images) > 0 {
		f.images++
	}
}

func (f *fingerprinter) sum() string { return hex.EncodeToString(f.h.Sum(nil)) }
