package eval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

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
	sum := sha256.Sum256(it.Canonical())
	return hex.EncodeToString(sum[:])
}

// Canonical returns the item's canonical JSON form, which its Hash and a
// dataset's fingerprint hash.
func (it *Item) Canonical() []byte {
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
