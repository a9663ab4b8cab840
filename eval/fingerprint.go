package eval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"

	"github.com/psveval/psveval/rubric"
)

// canonicalItem is the part of an item that defines what is evaluated.
// Field order and JSON encoding are fixed, so its hash is stable.
type canonicalItem struct {
	ID        string             `json:"id"`
	Type      string             `json:"type"`
	Question  string             `json:"question"`
	Reference string             `json:"reference"`
	Images    []string           `json:"images"`
	Rubric    []rubric.Criterion `json:"rubric"`
	Meta      map[string]string  `json:"meta"`
	Terms     []string           `json:"terms"`
}

// Hash returns the hex SHA-256 of the item's canonical JSON form: id, type,
// question, reference, image digests, rubric, metadata and terms.
func (it *Item) Hash() string {
	sum := sha256.Sum256(it.canonical())
	return hex.EncodeToString(sum[:])
}

func (it *Item) canonical() []byte {
	c := canonicalItem{
		ID: it.ID, Type: it.Type, Question: it.Question, Reference: it.Reference,
		Images: make([]string, len(it.Images)), Rubric: it.Rubric, Meta: it.Meta, Terms: it.Terms,
	}
	for i, im := range it.Images {
		c.Images[i] = im.SHA256
	}
	b, err := json.Marshal(c) // map keys are sorted by encoding/json
	if err != nil {
		panic(err) // only strings, ints and maps of strings
	}
	return b
}

// A Fingerprint identifies exactly what a dataset walk evaluated.
type Fingerprint struct {
	// SHA256 is the hex digest over every item's canonical form, in order.
	SHA256 string `json:"sha256"`
	// Items counts the items; Skipped lists those left out.
	Items   int    `json:"items"`
	Skipped []Skip `json:"skipped,omitempty"`
}

// FingerprintOf walks ds once and returns its fingerprint. Two datasets
// (say a parquet file and its JSONL twin) with the same items in the same
// order have the same fingerprint.
func FingerprintOf(ds *Dataset) (Fingerprint, error) {
	fp := newFingerprinter()
	for it, err := range ds.All() {
		if err != nil {
			return Fingerprint{}, err
		}
		fp.add(&it)
	}
	return Fingerprint{SHA256: fp.sum(), Items: fp.n, Skipped: ds.Skipped}, nil
}

// A fingerprinter hashes items' canonical forms, length-prefixed, in order.
type fingerprinter struct {
	h hash.Hash
	n int
}

func newFingerprinter() *fingerprinter { return &fingerprinter{h: sha256.New()} }

func (f *fingerprinter) add(it *Item) {
	b := it.canonical()
	fmt.Fprintf(f.h, "%d:", len(b))
	f.h.Write(b)
	f.n++
}

func (f *fingerprinter) sum() string { return hex.EncodeToString(f.h.Sum(nil)) }
