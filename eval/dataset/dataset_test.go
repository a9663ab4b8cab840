package dataset_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/evaltest"
	"github.com/psveval/psveval/rubric"
)

func readAll(t testing.TB, ds *dataset.Dataset) []eval.Item {
	t.Helper()
	var items []eval.Item
	for it, err := range ds.All() {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		items = append(items, it)
	}
	return items
}

func open(t testing.TB, path string, opts dataset.Options) *dataset.Dataset {
	t.Helper()
	ds, err := dataset.Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return ds
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func genParquet(t testing.TB, opts evaltest.Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := evaltest.WriteParquet(&b, opts); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), "psv.parquet", b.Bytes())
}

func TestFixtureParquet(t *testing.T) {
	t.Parallel()
	ds := open(t, "../../testdata/psv-mini.parquet", dataset.Options{})
	if ds.Format != "parquet" {
		t.Errorf("Format = %q, want parquet", ds.Format)
	}
	items := readAll(t, ds)
	if len(items) != 60 {
		t.Fatalf("read %d items, want 60", len(items))
	}
	perType := map[string]int{}
	for i, it := range items {
		perType[it.Type]++
		if it.Index != i || it.ID != fmt.Sprintf("psv-%05d", i) {
			t.Errorf("item %d: Index %d ID %q", i, it.Index, it.ID)
		}
		if len(it.Images) != 1 {
			t.Fatalf("item %s has %d images, want 1", it.ID, len(it.Images))
		}
		im := it.Images[0]
		wantMIME := map[bool]string{true: "image/jpeg", false: "image/png"}[i%2 == 0]
		if im.MIME != wantMIME || im.Width != 40 || im.Height != 40 {
			t.Errorf("item %s image: %s %dx%d, want %s 40x40", it.ID, im.MIME, im.Width, im.Height, wantMIME)
		}
		if _, err := im.Decode(); err != nil {
			t.Errorf("item %s: Decode: %v", it.ID, err)
		}
		if it.DefaultRubric || len(it.Rubric) != 5 {
			t.Errorf("item %s: %d criteria (default %v), want its own 5", it.ID, len(it.Rubric), it.DefaultRubric)
		}
		if it.Meta["modality"] == "" || it.Meta["main_topic"] == "" || it.Meta["source"] == "" || len(it.Terms) != 2 {
			t.Errorf("item %s: meta %v terms %v", it.ID, it.Meta, it.Terms)
		}
	}
	for _, typ := range eval.QuestionTypes {
		if perType[typ] != 10 {
			t.Errorf("%d items of type %q, want 10 (types: %v)", perType[typ], typ, perType)
		}
	}
	if got := items[3].Rubric[4].Points; got != 2 {
		t.Errorf("item 3 criterion 5 points = %d, want 2", got)
	}
}

func TestTwinsHaveOneFingerprint(t *testing.T) {
	t.Parallel()
	pq, err := dataset.FingerprintOf(open(t, "../../testdata/psv-mini.parquet", dataset.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	jl, err := dataset.FingerprintOf(open(t, "../../testdata/psv-mini.jsonl", dataset.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if pq.SHA256 != jl.SHA256 || pq.Items != 60 || jl.Items != 60 {
		t.Errorf("parquet fingerprint %+v, JSONL twin %+v: want equal, 60 items", pq, jl)
	}
	lim, err := dataset.FingerprintOf(open(t, "../../testdata/psv-mini.jsonl", dataset.Options{Limit: 10}))
	if err != nil {
		t.Fatal(err)
	}
	if lim.Items != 10 || lim.SHA256 == pq.SHA256 {
		t.Errorf("--limit 10 fingerprint %+v: want 10 items and another digest", lim)
	}
}

func TestFixturesUpToDate(t *testing.T) {
	t.Parallel()
	var pq, jl bytes.Buffer
	if err := evaltest.WriteParquet(&pq, evaltest.Fixture); err != nil {
		t.Fatal(err)
	}
	if err := evaltest.WriteJSONL(&jl, evaltest.Fixture); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"psv-mini.parquet": pq.Bytes(), "psv-mini.jsonl": jl.Bytes()} {
		got, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/%s differs from what evaltest.Fixture generates; run: go run ./testdata/gen", name)
		}
	}
}

func TestParquetVariants(t *testing.T) {
	t.Parallel()
	for _, comp := range []string{"none", "snappy", "zstd", "gzip"} {
		t.Run(comp, func(t *testing.T) {
			t.Parallel()
			opts := evaltest.Options{N: 25, Seed: 1, ImageSide: 16, RowGroupRows: 4, Compression: comp}
			path := genParquet(t, opts)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			pf, err := parquet.OpenFile(f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			if n := len(pf.RowGroups()); n != 7 {
				t.Errorf("%d row groups, want 7", n)
			}
			items := readAll(t, open(t, path, dataset.Options{}))
			if len(items) != 25 || items[24].ID != "psv-00024" || items[24].Images[0].Width != 16 {
				t.Errorf("read %d items, last %+v", len(items), items[len(items)-1].ID)
			}
		})
	}
}

// multiRow has several images per item, other column names, and optional
// columns left null, to exercise the mapping and the list-of-images shape.
type multiRow struct {
	QID      int64                `parquet:"qid"`
	Query    string               `parquet:"query"`
	GT       *string              `parquet:"gt_answer,optional"`
	Category string               `parquet:"category,optional"`
	Images   []evaltest.Image     `parquet:"images,list"`
	Rubric   []evaltest.Criterion `parquet:"rubric,optional,list"`
	Extra    float64              `parquet:"difficulty"`
}

func writeMulti(t *testing.T, rows []multiRow) string {
	t.Helper()
	var b bytes.Buffer
	w := parquet.NewGenericWriter[multiRow](&b, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), "multi.parquet", b.Bytes())
}

func TestParquetMultiImageAndMapping(t *testing.T) {
	t.Parallel()
	jpg, png := evaltest.Picture(8, 1, true), evaltest.Picture(8, 2, false)
	path := writeMulti(t, []multiRow{
		{QID: 7, Query: "q one", GT: new("a one"), Category: "clinical-management",
			Images: []evaltest.Image{{Bytes: jpg}, {Bytes: png}}, Extra: 0.5},
		{QID: 8, Query: "q two", GT: new("a two"), Images: []evaltest.Image{{Bytes: png}},
			Rubric: []evaltest.Criterion{{Dim: "x", Score: 3, Description: "d"}, {Dim: "y", Score: -1, Description: "e"}}},
	})
	ds := open(t, path, dataset.Options{})
	want := dataset.Mapping{dataset.RoleID: "qid", dataset.RoleQuestion: "query", dataset.RoleAnswer: "gt_answer", dataset.RoleType: "category", dataset.RoleImage: "images", dataset.RoleRubric: "rubric"}
	if ds.Mapping.String() != want.String() {
		t.Errorf("Mapping = %s, want %s", ds.Mapping, want)
	}
	items := readAll(t, ds)
	if len(items) != 2 {
		t.Fatalf("read %d items", len(items))
	}
	a, b := items[0], items[1]
	if a.ID != "7" || a.Question != "q one" || a.Reference != "a one" || a.Type != "Clinical Management" {
		t.Errorf("item 0 = %+v", a)
	}
	if len(a.Images) != 2 || a.Images[0].MIME != "image/jpeg" || a.Images[1].MIME != "image/png" {
		t.Errorf("item 0 images = %+v", a.Images)
	}
	if !a.DefaultRubric || len(a.Rubric) != 5 {
		t.Errorf("item 0 should get the default rubric, got %+v", a.Rubric)
	}
	if a.Meta["difficulty"] != "0.5" {
		t.Errorf("item 0 meta = %v, want difficulty 0.5", a.Meta)
	}
	if b.Type != eval.NoType || b.DefaultRubric || b.Rubric[1] != (rubric.Criterion{Dim: "y", Points: -1, Description: "e"}) {
		t.Errorf("item 1 = type %q rubric %+v", b.Type, b.Rubric)
	}
	// An explicit mapping wins over the names found.
	ds = open(t, path, dataset.Options{Map: dataset.Mapping{dataset.RoleQuestion: "gt_answer", dataset.RoleAnswer: "query", dataset.RoleType: "-"}})
	items = readAll(t, ds)
	if items[0].Question != "a one" || items[0].Type != eval.NoType || items[0].Meta["category"] != "clinical-management" {
		t.Errorf("with --map: %+v", items[0])
	}
}

func TestNormalizeType(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Visual Perception": "Visual Perception", "visual_perception": "Visual Perception",
		" DIAGNOSTIC-inference ": "Diagnostic Inference", "ClinicalManagement": "Clinical Management",
		"PRES": "PRES", "PRES, POS": "PRES, POS", "": eval.NoType, "  ": eval.NoType,
	} {
		if got := eval.NormalizeType(in); got != want {
			t.Errorf("NormalizeType(%q) = %q, want %q", in, got, want)
		}
	}
}

func jsonl(t *testing.T, lines ...any) string {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		switch x := l.(type) {
		case string:
			b.WriteString(x)
		default:
			j, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(j)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestJSONLImages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jpg, png := evaltest.Picture(12, 3, true), evaltest.Picture(10, 4, false)
	writeFile(t, dir, "pics/a.jpg", jpg)
	writeFile(t, dir, "images/sub/b.png", png)
	path := writeFile(t, dir, "set.jsonl", []byte(jsonl(t,
		map[string]any{"id": "rel", "question": "q", "answer": "a", "image": "pics/a.jpg"},
		map[string]any{"id": "imagesdir", "question": "q", "answer": "a", "image": "sub/b.png"},
		map[string]any{"id": "datauri", "question": "q", "answer": "a", "image": evaltest.DataURI("image/png", png)},
		map[string]any{"id": "struct", "question": "q", "answer": "a", "image": map[string]any{"bytes": base64.StdEncoding.EncodeToString(jpg), "path": "x.jpg"}},
		map[string]any{"id": "list", "question": "q", "answer": 42, "images_ignored": 1, "image": []any{"pics/a.jpg", map[string]any{"path": "sub/b.png"}}},
		"",
		map[string]any{"id": 6, "question": "q", "answer": true},
	)))
	items := readAll(t, open(t, path, dataset.Options{}))
	if len(items) != 6 {
		t.Fatalf("read %d items, want 6", len(items))
	}
	want := []struct {
		id     string
		images []string
	}{
		{"rel", []string{"image/jpeg"}}, {"imagesdir", []string{"image/png"}}, {"datauri", []string{"image/png"}},
		{"struct", []string{"image/jpeg"}}, {"list", []string{"image/jpeg", "image/png"}}, {"6", nil},
	}
	for i, w := range want {
		it := items[i]
		var mimes []string
		for _, im := range it.Images {
			mimes = append(mimes, im.MIME)
			b, err := im.Data()
			if err != nil || len(b) != int(im.Size) {
				t.Errorf("item %s: Data() = %d bytes, %v; want %d", it.ID, len(b), err, im.Size)
			}
		}
		if it.ID != w.id || !slices.Equal(mimes, w.images) {
			t.Errorf("item %d = %s %v, want %s %v", i, it.ID, mimes, w.id, w.images)
		}
	}
	if items[4].Reference != "42" || items[5].Reference != "true" {
		t.Errorf("non-string answers read as %q and %q", items[4].Reference, items[5].Reference)
	}
	if items[0].Images[0].SHA256 != items[3].Images[0].SHA256 {
		t.Error("the same JPEG read from a file and from base64 has two digests")
	}
}

// TestBadInput covers every bad input the data issue lists: each fails with
// an *InputError naming the file and, where there is one, the line or row.
func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fixture, err := os.ReadFile("../../testdata/psv-mini.parquet")
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"id": "a", "question": "q", "answer": "x"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{"id": "a", "question": "q", "answer": "x"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	writeFile(t, dir, "not-an-image.jpg", []byte("hello, not an image"))
	writeFile(t, dir, "fake.gif", []byte("GIF89a but not really"))
	jpg := evaltest.Picture(32, 5, true)
	writeFile(t, dir, "trunc.jpg", jpg[:len(jpg)*2/3])
	tests := []struct {
		name, file string
		content    []byte
		opts       dataset.Options
		wantPos    string // "" for a whole-file error
		wantMsg    string
	}{
		{"truncated parquet", "trunc.parquet", fixture[:len(fixture)/2], dataset.Options{}, "", "not a readable parquet file"},
		{"truncated parquet footer kept", "cut.parquet", append(append([]byte{}, fixture[:4]...), fixture[len(fixture)-2000:]...), dataset.Options{}, "", "parquet"},
		{"not parquet", "fake.parquet", []byte("id,question,answer\n1,q,a\n"), dataset.Options{}, "", "not a readable parquet file"},
		{"empty file", "empty.jsonl", nil, dataset.Options{}, "", "file is empty"},
		{"blank lines only", "blank.jsonl", []byte("\n\n  \n"), dataset.Options{}, "", "no JSON lines"},
		{"missing column", "nocol.jsonl", []byte(jsonl(t, map[string]any{"id": "a", "question": "q"})), dataset.Options{}, "", "no column for answer: tried answer, reference, gt_answer, ground_truth, reference_answer; the columns are: id, question"},
		{"mapped column missing", "map.jsonl", []byte(jsonl(t, good)), dataset.Options{Map: dataset.Mapping{dataset.RoleAnswer: "gt"}}, "", `column "gt" (mapped to answer) does not exist; the columns are: answer, id, question`},
		{"wrong type parquet", "psv.parquet", fixture, dataset.Options{Map: dataset.Mapping{dataset.RoleQuestion: "med_terms"}}, "", `column "med_terms" (question) has type list<string>; question wants a string`},
		{"wrong type jsonl", "type.jsonl", []byte(jsonl(t, good, with("question", []any{"q"}))), dataset.Options{}, "line 2", `column "question" (question) is a list`},
		{"line not JSON", "bad.jsonl", []byte(jsonl(t, good, "{\"id\": \"b\", \"question\": ")), dataset.Options{}, "line 2", "not a JSON object"},
		{"line not an object", "arr.jsonl", []byte(jsonl(t, good, with("id", "b"), "[1,2]")), dataset.Options{}, "line 3", "not a JSON object"},
		{"duplicate id", "dup.jsonl", []byte(jsonl(t, good, with("id", "b"), good)), dataset.Options{}, "line 3", "duplicate id: already used at line 1"},
		{"no question", "noq.jsonl", []byte(jsonl(t, good, with("id", "b", "question", nil))), dataset.Options{}, "line 2", `no question: column "question" is missing or null`},
		{"blank answer", "noa.jsonl", []byte(jsonl(t, good, with("id", "b", "answer", "  "))), dataset.Options{}, "line 2", `answer in column "answer" is blank`},
		{"image is not an image", "img.jsonl", []byte(jsonl(t, with("image", "not-an-image.jpg"))), dataset.Options{}, "line 1", "is not a JPEG, PNG or GIF image"},
		{"image header but no data", "fakegif.jsonl", []byte(jsonl(t, with("image", "fake.gif"))), dataset.Options{}, "line 1", "does not decode"},
		{"truncated JPEG file", "tjpg.jsonl", []byte(jsonl(t, with("image", "trunc.jpg"))), dataset.Options{}, "line 1", "truncated"},
		{"truncated base64 image", "b64.jsonl", []byte(jsonl(t, with("image", evaltest.DataURI("image/png", evaltest.Picture(8, 1, false)[:30])))), dataset.Options{}, "line 1", "does not decode"},
		{"image path missing", "miss.jsonl", []byte(jsonl(t, with("image", "nope/x.png"))), dataset.Options{}, "line 1", `image "nope/x.png" does not exist`},
		{"image path outside", "escape.jsonl", []byte(jsonl(t, with("image", "../../etc/passwd"))), dataset.Options{}, "line 1", `image path "../../etc/passwd" points outside the dataset's folder`},
		{"absolute image path outside", "abs.jsonl", []byte(jsonl(t, with("image", "/etc/passwd"))), dataset.Options{}, "line 1", "points outside the dataset's folder"},
		{"image too large", "big.jsonl", []byte(jsonl(t, with("image", "not-an-image.jpg"))), dataset.Options{MaxImageBytes: 10}, "line 1", "over the 10-byte limit (--max-image-bytes)"},
		{"rubric without points", "rub.jsonl", []byte(jsonl(t, with("rubric", []any{map[string]any{"dim": "d", "description": "x"}}))), dataset.Options{}, "line 1", `rubric criterion 1 ("d") has no score`},
		{"rubric all negative", "neg.jsonl", []byte(jsonl(t, with("rubric", []any{map[string]any{"dim": "d", "score": -1, "description": "x"}}))), dataset.Options{}, "line 1", "no criterion with positive points"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, dir, tc.file, tc.content)
			ds, err := dataset.Open(path, tc.opts)
			if err == nil {
				for _, err = range ds.All() {
					if err != nil {
						break
					}
				}
			}
			var ie *eval.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want an *eval.InputError", err, err)
			}
			if ie.File != path || ie.Pos != tc.wantPos || !strings.Contains(ie.Err.Error(), tc.wantMsg) {
				t.Errorf("err = %q\nwant file %s, pos %q, message containing %q", err, path, tc.wantPos, tc.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), path) {
				t.Errorf("message %q does not start with the file name", err)
			}
		})
	}
}

func TestSkipBadItems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "ok.png", evaltest.Picture(8, 1, false))
	writeFile(t, dir, "broken.png", evaltest.Picture(8, 1, false)[:40])
	path := writeFile(t, dir, "s.jsonl", []byte(jsonl(t,
		map[string]any{"id": "a", "question": "q", "answer": "x", "image": "ok.png"},
		map[string]any{"id": "b", "question": "q", "answer": "x", "image": "broken.png"},
		map[string]any{"id": "c", "question": "q", "answer": "x", "image": "gone.png"},
		map[string]any{"id": "d", "question": "q", "answer": "x", "image": "ok.png"},
	)))
	ds := open(t, path, dataset.Options{SkipBadItems: true})
	items := readAll(t, ds)
	if len(items) != 2 || items[0].ID != "a" || items[1].ID != "d" || items[1].Index != 1 {
		t.Fatalf("items = %v", items)
	}
	if len(ds.Skipped) != 2 || ds.Skipped[0].ID != "b" || ds.Skipped[1].ID != "c" || ds.Skipped[1].Pos != "line 3" {
		t.Errorf("Skipped = %+v, want b and c", ds.Skipped)
	}
	fp, err := dataset.FingerprintOf(ds)
	if err != nil || fp.Items != 2 || len(fp.Skipped) != 2 {
		t.Errorf("FingerprintOf = %+v, %v", fp, err)
	}
	// Without the flag the first bad image stops the walk.
	_, err = dataset.FingerprintOf(open(t, path, dataset.Options{}))
	if err == nil || !strings.Contains(err.Error(), `line 2: item "b"`) {
		t.Errorf("without --skip-bad-items: %v", err)
	}
}

// sharedSample is the medvqa sample beside the project, in CI too.
const sharedSample = "../../shared/data/medvqa-sample/items.jsonl"

func TestSharedMedVQASample(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(sharedSample); err != nil {
		t.Skipf("skipping: %s is absent (%v); it sits at ../shared beside the project in CI", sharedSample, err)
	}
	ds := open(t, sharedSample, dataset.Options{})
	items := readAll(t, ds)
	if len(items) != 375 {
		t.Fatalf("read %d items, want 375", len(items))
	}
	cmyk := map[string]bool{}
	sources := map[string]int{}
	for _, it := range items {
		sources[it.Meta["source"]]++
		if len(it.Images) != 1 {
			t.Fatalf("item %s has %d images", it.ID, len(it.Images))
		}
		im := it.Images[0]
		if im.ColorModel != "cmyk" || cmyk[im.Path] {
			continue
		}
		cmyk[im.Path] = true
		m, err := im.Decode()
		if err != nil {
			t.Fatalf("CMYK image %s: %v", im.Path, err)
		}
		c, ok := m.(*image.CMYK)
		if !ok || c.Bounds().Dx() != im.Width || c.Bounds().Dy() != im.Height {
			t.Fatalf("CMYK image %s decoded as %T %v, want *image.CMYK %dx%d", im.Path, m, m.Bounds(), im.Width, im.Height)
		}
		// Adobe CMYK JPEGs store inverted values: read wrongly, colours
		// come out as their complements. Each check below holds for the
		// image as it looks (checked by eye) and fails for its complement.
		if check, ok := cmykLooks[filepath.Base(im.Path)]; !ok || !check(m) {
			t.Errorf("CMYK image %s: colours are not as the picture looks (decoded inverted?); mean RGB %v, corner %v", im.Path, meanRGB(m), corner(m))
		}
	}
	if len(cmyk) != 4 {
		t.Errorf("found %d CMYK images, want 4: %v", len(cmyk), cmyk)
	}
	if sources["vqa-rad"] != 222 || sources["pathvqa"] != 153 {
		t.Errorf("sources = %v, want vqa-rad 222 and pathvqa 153", sources)
	}
	if items[0].Type != "PRES" || items[0].Meta["qid"] != "11" {
		t.Errorf("item 0 type %q qid %q: VQA-RAD labels must be kept as they are", items[0].Type, items[0].Meta["qid"])
	}
}

// cmykLooks describes the four CMYK images of the medvqa sample.
var cmykLooks = map[string]func(image.Image) bool{
	// a DNA model on a white background
	"pathvqa_test_00000.jpg": func(m image.Image) bool { c := corner(m); return c[0] > 0.9 && c[1] > 0.9 && c[2] > 0.9 },
	// a red-brown gross specimen of bowel
	"pathvqa_test_01813.jpg": func(m image.Image) bool { c := meanRGB(m); return c[0] > c[1]+0.1 && c[0] > c[2]+0.1 },
	// a specimen on a cyan background
	"pathvqa_test_02212.jpg": func(m image.Image) bool { c := corner(m); return c[0] < 0.3 && c[1] > 0.6 && c[2] > 0.6 },
	// an H&E section: pink and purple
	"pathvqa_test_02446.jpg": func(m image.Image) bool { c := meanRGB(m); return c[0] > c[1]+0.1 && c[2] > c[1]+0.1 },
}

func rgb(m image.Image, x, y int) [3]float64 {
	r, g, b, _ := m.At(x, y).RGBA()
	return [3]float64{float64(r) / 65535, float64(g) / 65535, float64(b) / 65535}
}

func corner(m image.Image) [3]float64 {
	b := m.Bounds()
	return rgb(m, b.Min.X+2, b.Min.Y+2)
}

func meanRGB(m image.Image) [3]float64 {
	var sum [3]float64
	b := m.Bounds()
	n := 0.0
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			c := rgb(m, x, y)
			for i := range sum {
				sum[i] += c[i]
			}
			n++
		}
	}
	for i := range sum {
		sum[i] /= n
	}
	return sum
}

// TestInspectListsEveryBadItem: inspect goes on past a bad rubric and
// lists every bad item, not the first alone.
func TestInspectListsEveryBadItem(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	var lines []string
	for i := range 6 {
		rub := `[{"dim":"accuracy","score":1,"description":"right"}]`
		if i%2 == 1 {
			rub = `[{"dim":"accuracy","score":"one","description":"right"}]`
		}
		lines = append(lines, fmt.Sprintf(`{"id":"q%d","question":"Q%d?","answer":"a","question_type":"Visual Perception","rubric":%s}`, i, i, rub))
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Open(path, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := dataset.Inspect(ds, dataset.InspectOptions{})
	if err == nil || len(in.Problems) != 3 || in.Items != 3 || !strings.Contains(err.Error(), "and 2 more bad items") {
		t.Fatalf("Inspect: %v; %d problems, %d good items: want 3 and 3\n%+v", err, len(in.Problems), in.Items, in.Problems)
	}
	for i, p := range in.Problems {
		if want := fmt.Sprintf("q%d", 2*i+1); p.ID != want {
			t.Errorf("problem %d is item %q, want %q", i, p.ID, want)
		}
	}
	// An ordinary walk still stops at the first.
	n := 0
	for _, err := range ds.All() {
		if err != nil {
			break
		}
		n++
	}
	if n != 1 {
		t.Errorf("a walk after Inspect yielded %d items before the bad one, want 1", n)
	}
}
