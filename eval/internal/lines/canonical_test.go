package lines

import (
	"testing"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/rubric"
)

// FuzzAppendCanonical holds the fingerprint's canonical form equal to
// eval's, byte for byte, on any strings (escapes, HTML, invalid UTF-8)
// and with each list and map nil, empty or full.
func FuzzAppendCanonical(f *testing.F) {
	f.Add("vqa-rad/1", "open", "Is the <liver> \"enlarged\"?\n", "yes & no", "k", "v\u2028", "term", "acc", "met \xff", int64(-2), uint8(7))
	f.Add("", "", "", "", "", "", "", "", "", int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, id, typ, q, ref, mk, mv, term, dim, desc string, points int64, shape uint8) {
		it := eval.Item{ID: id, Type: typ, Question: q, Reference: ref}
		if shape&1 != 0 {
			it.Images = []eval.Image{{SHA256: mv}, {SHA256: mk}}
		}
		if shape&2 != 0 {
			it.Meta = map[string]string{mk: mv, mv: mk, "z": term}
		} else if shape&16 != 0 {
			it.Meta = map[string]string{}
		}
		if shape&4 != 0 {
			it.Terms = []string{term, q}
		} else if shape&32 != 0 {
			it.Terms = []string{}
		}
		if shape&8 != 0 {
			it.Rubric = []rubric.Criterion{{Dim: dim, Points: points, Description: desc}, {Dim: desc}}
		} else if shape&64 != 0 {
			it.Rubric = []rubric.Criterion{}
		}
		if got, want := AppendCanonical([]byte("x"), &it), it.Canonical(); string(got[1:]) != string(want) {
			t.Errorf("AppendCanonical wrote\n%s\neval's Canonical is\n%s", got[1:], want)
		}
	})
}
