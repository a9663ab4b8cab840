package dataset

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/rubric"
)

// ErrNoItems is returned when a dataset holds no item at all.
var ErrNoItems = errors.New("dataset has no items")

// DefaultMaxImageBytes is the default limit on one image's size.
const DefaultMaxImageBytes = 32 << 20

// DefaultMaxTextBytes is the default limit on a question's or reference
// answer's length.
const DefaultMaxTextBytes = 1 << 20

// Options configures [Open]. The zero value reads the file with its
// columns found by name, the default rubric, and no limits beyond
// DefaultMaxImageBytes.
type Options struct {
	// Map maps roles to columns; roles left out are found by name.
	Map Mapping
	// ImageRoot is the folder that image paths are relative to and must
	// stay inside. The default is the dataset file's folder. A path that
	// does not exist there is also tried under ImageRoot/images.
	ImageRoot string
	// SkipBadItems skips items whose image is missing or does not decode,
	// or whose question or answer is over MaxTextBytes, recording them in
	// [Dataset.Skipped], instead of failing.
	SkipBadItems bool
	// MaxImageBytes refuses larger images (0 means DefaultMaxImageBytes).
	MaxImageBytes int64
	// MaxTextBytes refuses items whose question or reference answer is
	// longer (0 means DefaultMaxTextBytes).
	MaxTextBytes int
	// Limit stops after this many items (0 means all).
	Limit int
	// Shard, when set, keeps one share of the items (of the first Limit,
	// where a limit is set): see [Shard].
	Shard *Shard
	// Rubric is given to items without their own rubric (nil means
	// rubric.Default()).
	Rubric *rubric.Rubric
	// ClusterBy keys the items' clusters (see [eval.ClusterOf]): "image"
	// (or ""), "none", or a column of the dataset, a patient or study id
	// say.
	ClusterBy string
}

// ClusterBy returns how the items' clusters are keyed.
func (d *Dataset) ClusterBy() string { return cmp.Or(d.opts.ClusterBy, eval.ClusterByImage) }

// A Column is one top-level column of a dataset and its type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Limit returns the number of items a walk stops after (0: all).
func (d *Dataset) Limit() int { return d.opts.Limit }

// Shard returns the share of the items a walk yields, "i/n", or "".
func (d *Dataset) Shard() string {
	if d.opts.Shard == nil {
		return ""
	}
	return d.opts.Shard.String()
}

// A Dataset is a file of test items. Its All method reads the file anew on
// every call, so a Dataset can be walked several times (to fingerprint it,
// then to run it) with memory bounded by one item, not by the file.
//
// A Dataset is not safe for concurrent walks.
type Dataset struct {
	Path    string
	Format  string // "parquet" or "jsonl"
	Columns []Column
	// Mapping is the resolved column mapping.
	Mapping Mapping
	// Rubric is the default rubric given to items without one.
	Rubric rubric.Rubric
	// Skipped lists the items the last complete walk skipped.
	Skipped []eval.Skip

	opts    Options
	mapped  map[string]bool // the columns the mapping uses
	root    string
	src     source
	imgMu   sync.Mutex
	imgSeen map[string]eval.Image // by resolved path
	imgPath map[string]eval.Image // by the path as the dataset writes it
	// problems, when set (by Inspect), collects every bad item instead
	// of ending the walk at the first.
	problems *[]Problem
}

// A record is one raw row: column name to value. Values are string,
// json.Number, int64, float64, bool, nil, []any and map[string]any. In
// parquet records, binary values are raw bytes held in a string; in JSONL
// records they are base64 text.
type record map[string]any

type source interface {
	columns() []Column
	// records walks the records in order; parallel lets it decode them
	// on several cores, for a walk that has the machine to itself.
	records(parallel bool) iter.Seq2[posRecord, error]
	rawBytes() bool
}

type posRecord struct {
	pos string // "line 12", "row 12"
	num int    // the 12
	rec record
}

// Open opens a dataset: a Parquet file (Hugging Face layout) or a JSONL
// file, told apart by extension or, failing that, by the Parquet magic
// bytes. It reads the schema (Parquet) or the first records (JSONL),
// resolves the column mapping and checks column types, so a missing or
// mistyped column fails here, before any item is read.
func Open(path string, opts Options) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	if st.IsDir() {
		return nil, &eval.InputError{File: path, Err: errors.New("is a folder; give the .parquet or .jsonl file")}
	}
	if st.Size() == 0 {
		return nil, &eval.InputError{File: path, Err: errors.New("file is empty")}
	}
	d := &Dataset{Path: path, opts: opts, imgSeen: map[string]eval.Image{}, imgPath: map[string]eval.Image{}}
	if opts.Rubric != nil {
		d.Rubric = *opts.Rubric
	} else {
		d.Rubric = rubric.Default()
	}
	if d.opts.MaxImageBytes <= 0 {
		d.opts.MaxImageBytes = DefaultMaxImageBytes
	}
	if d.opts.MaxTextBytes <= 0 {
		d.opts.MaxTextBytes = DefaultMaxTextBytes
	}
	d.root = opts.ImageRoot
	if d.root == "" {
		d.root = filepath.Dir(path)
	}
	if d.root, err = filepath.Abs(d.root); err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	d.Format, err = detectFormat(path)
	if err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	switch d.Format {
	case "parquet":
		d.src, err = openParquet(path, st.Size())
	default:
		d.src, err = openJSONL(path)
	}
	if err != nil {
		return nil, err
	}
	d.Columns = d.src.columns()
	names := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		names[i] = c.Name
	}
	if d.Mapping, err = ResolveMapping(opts.Map, names); err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	if err := d.checkTypes(); err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	d.mapped = map[string]bool{}
	for _, c := range d.Mapping {
		d.mapped[c] = true
	}
	if by := d.ClusterBy(); by != eval.ClusterByImage && by != eval.ClusterByNone && !slices.Contains(names, by) {
		return nil, &eval.InputError{File: path, Err: fmt.Errorf("--cluster-by %q: no such column (columns: %s); give image, none or a column", by, strings.Join(names, ", "))}
	}
	return d, nil
}

func detectFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".pq":
		return "parquet", nil
	case ".jsonl", ".ndjson", ".json":
		return "jsonl", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := f.Read(magic); err == nil && string(magic) == "PAR1" {
		return "parquet", nil
	}
	if magic[0] == '{' {
		return "jsonl", nil
	}
	return "", errors.New("unknown format: name a .parquet or .jsonl file")
}

// checkTypes checks the mapped columns' types against what each role takes.
func (d *Dataset) checkTypes() error {
	types := make(map[string]string, len(d.Columns))
	for _, c := range d.Columns {
		types[c.Name] = c.Type
	}
	for _, r := range Roles {
		col, ok := d.Mapping[r]
		if !ok {
			continue
		}
		t := types[col]
		if d.Format == "jsonl" { // JSON values vary by line: checked per line
			continue
		}
		if !roleAccepts(r, t) {
			return fmt.Errorf("column %q (%s) has type %s; %s wants %s", col, r, t, r, roleWants[r])
		}
	}
	return nil
}

var roleWants = map[Role]string{
	RoleID:       "a string or an integer",
	RoleQuestion: "a string",
	RoleAnswer:   "a string, number or boolean",
	RoleType:     "a string",
	RoleImage:    "struct{bytes, path}, a list of those, binary, or a string path",
	RoleRubric:   "list<struct{dim string, score int, description string}>",
	RoleModality: "a string",
	RoleTopic:    "a string",
	RoleSource:   "a string",
	RoleTerms:    "list<string> or a string",
}

func roleAccepts(r Role, t string) bool {
	switch r {
	case RoleID:
		return t == "string" || t == "int"
	case RoleAnswer:
		return t == "string" || t == "int" || t == "float" || t == "bool"
	case RoleImage:
		return isImageStruct(t) || (strings.HasPrefix(t, "list<") && isImageStruct(t[5:len(t)-1])) || t == "bytes" || t == "string"
	case RoleRubric:
		return strings.HasPrefix(t, "list<struct{") && strings.Contains(t, "description:string")
	case RoleTerms:
		return t == "list<string>" || t == "string"
	}
	return t == "string"
}

func isImageStruct(t string) bool {
	return strings.HasPrefix(t, "struct{") && (strings.Contains(t, "bytes:bytes") || strings.Contains(t, "path:string"))
}

// All yields the dataset's items in file order. It stops at the first bad
// item with an [*InputError], unless the problem is a bad image and
// SkipBadItems is set, in which case the item is recorded in Skipped and
// left out. Duplicate ids are always an error.
func (d *Dataset) All() iter.Seq2[eval.Item, error] { return d.all(false, true) }

// Again is All for a walk beside another one, such as writing the results
// of items that the run's walk has finished: it yields the same items,
// and leaves Skipped to the other walk.
func (d *Dataset) Again() iter.Seq2[eval.Item, error] { return d.all(false, false) }

// all is All, decoding on every core when parallel is set, and recording
// skipped items in Skipped when record is.
func (d *Dataset) all(parallel, record bool) iter.Seq2[eval.Item, error] {
	return func(yield func(eval.Item, error) bool) {
		skipped := new([]eval.Skip)
		if record {
			d.Skipped = nil
			skipped = &d.Skipped
		}
		var keep map[uint64]bool
		if d.opts.Shard != nil {
			var err error
			if keep, err = d.shardMembers(); err != nil {
				yield(eval.Item{}, err)
				return
			}
		}
		yielded := 0
		// Ids seen, by a 64-bit hash of the id (the chance that two of
		// 100,000 ids collide is about 3·10⁻¹⁰), with the line or row
		// where each was: this map grows with the file.
		seen := map[uint64]int{}
		n := 0
		for pr, err := range d.src.records(parallel) {
			if err != nil {
				yield(eval.Item{}, err)
				return
			}
			it, err := d.item(pr, n)
			if err != nil {
				var ie *skippable
				if d.opts.SkipBadItems && errors.As(err, &ie) {
					*skipped = append(*skipped, eval.Skip{ID: it.ID, Pos: pr.pos, Reason: err.Error()})
					continue
				}
				if d.problems != nil {
					*d.problems = append(*d.problems, Problem{Pos: pr.pos, ID: it.ID, Message: err.Error()})
					continue
				}
				yield(eval.Item{}, &eval.InputError{File: d.Path, Pos: pr.pos, ID: it.ID, Err: err})
				return
			}
			h := idHash(it.ID)
			if prev, dup := seen[h]; dup {
				where := strings.Fields(pr.pos)[0]
				err := fmt.Errorf("duplicate id: already used at %s %d; ids must be unique (map another column with --map id=COLUMN)", where, prev)
				if d.problems != nil {
					*d.problems = append(*d.problems, Problem{Pos: pr.pos, ID: it.ID, Message: err.Error()})
					continue
				}
				yield(eval.Item{}, &eval.InputError{File: d.Path, Pos: pr.pos, ID: it.ID, Err: err})
				return
			}
			seen[h] = pr.num
			if keep == nil || keep[h] {
				if !yield(it, nil) {
					return
				}
				yielded++
			}
			n++
			if d.opts.Limit > 0 && n >= d.opts.Limit {
				return
			}
		}
		if n == 0 && len(*skipped) == 0 {
			yield(eval.Item{}, &eval.InputError{File: d.Path, Err: ErrNoItems})
		} else if yielded == 0 && keep != nil {
			yield(eval.Item{}, &eval.InputError{File: d.Path, Err: fmt.Errorf("shard %s has no items: use fewer shards than the %d items", d.opts.Shard, n)})
		}
	}
}

func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// skippable marks an item problem that SkipBadItems may skip: a bad image
// or an oversized text.
type skippable struct{ err error }

func (e *skippable) Error() string { return e.err.Error() }
func (e *skippable) Unwrap() error { return e.err }

// item builds the item at position n from a raw record. On error the
// returned item carries at least the id, for the error message.
func (d *Dataset) item(pr posRecord, n int) (eval.Item, error) {
	rec := pr.rec
	it := eval.Item{Index: n, Pos: pr.pos, Meta: map[string]string{}}
	if col, ok := d.Mapping[RoleID]; ok {
		id, ok := scalarText(rec[col])
		if !ok || strings.TrimSpace(id) == "" {
			return it, fmt.Errorf("no id in column %q", col)
		}
		it.ID = id
	} else {
		it.ID = strconv.Itoa(n)
	}
	var err error
	if it.Question, err = d.text(rec, RoleQuestion, true); err != nil {
		return it, err
	}
	if it.Reference, err = d.text(rec, RoleAnswer, true); err != nil {
		return it, err
	}
	typ, err := d.text(rec, RoleType, false)
	if err != nil {
		return it, err
	}
	it.Type = eval.NormalizeType(typ)
	for _, r := range []Role{RoleModality, RoleTopic, RoleSource} {
		v, err := d.text(rec, r, false)
		if err != nil {
			return it, err
		}
		if v != "" {
			it.Meta[string(r)] = v
		}
	}
	if col, ok := d.Mapping[RoleTerms]; ok {
		if it.Terms, err = stringList(rec[col]); err != nil {
			return it, fmt.Errorf("column %q: %w", col, err)
		}
	}
	if col, ok := d.Mapping[RoleRubric]; ok && rec[col] != nil {
		if it.Rubric, err = criteria(rec[col]); err != nil {
			return it, fmt.Errorf("column %q: %w", col, err)
		}
	}
	if len(it.Rubric) == 0 {
		it.Rubric = d.Rubric.Criteria
		it.DefaultRubric = true
	}
	for k, v := range rec {
		if d.mapped[k] {
			continue
		}
		if s, ok := scalarText(v); ok {
			it.Meta[k] = s
		}
	}
	if col, ok := d.Mapping[RoleImage]; ok {
		if it.Images, err = d.images(rec[col]); err != nil {
			return it, &skippable{fmt.Errorf("column %q: %w", col, err)}
		}
	}
	switch by := d.ClusterBy(); by {
	case eval.ClusterByImage, eval.ClusterByNone:
		it.Cluster = eval.ClusterOf(&it, by)
	default:
		it.Cluster, _ = scalarText(rec[by])
	}
	return it, nil
}

// text returns the role's value as text. A required role must be present
// and non-blank.
func (d *Dataset) text(rec record, r Role, req bool) (string, error) {
	col, ok := d.Mapping[r]
	if !ok {
		return "", nil
	}
	v, present := rec[col]
	if !present || v == nil {
		if req {
			return "", fmt.Errorf("no %s: column %q is missing or null", r, col)
		}
		return "", nil
	}
	s, ok := scalarText(v)
	if !ok {
		return "", fmt.Errorf("column %q (%s) is %s; %s wants %s", col, r, jsonKind(v), r, roleWants[r])
	}
	if r == RoleQuestion {
		if _, isString := v.(string); !isString {
			return "", fmt.Errorf("column %q (%s) is %s; %s wants %s", col, r, jsonKind(v), r, roleWants[r])
		}
	}
	if req && strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("%s in column %q is blank", r, col)
	}
	if req && len(s) > d.opts.MaxTextBytes {
		return "", &skippable{fmt.Errorf("%s in column %q is %d bytes, over the %d-byte limit (--max-text-bytes; or leave the item out with --skip-bad-items)", r, col, len(s), d.opts.MaxTextBytes)}
	}
	return s, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case fmt.Stringer: // json.Number
		return x.String(), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				if e == nil {
					continue
				}
				return nil, fmt.Errorf("element %d is %s, want a string", i, jsonKind(e))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("is %s, want a list of strings", jsonKind(v))
}

// criteria reads a rubric list: objects with dim, score (or points) and
// description.
func criteria(v any) ([]rubric.Criterion, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("rubric is %s, want a list of {dim, score, description}", jsonKind(v))
	}
	cs := make([]rubric.Criterion, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("rubric criterion %d is %s, want {dim, score, description}", i+1, jsonKind(e))
		}
		var c rubric.Criterion
		c.Dim, _ = scalarText(m["dim"])
		c.Description, _ = scalarText(m["description"])
		pts, ok := m["score"]
		if !ok {
			pts, ok = m["points"]
		}
		if !ok || pts == nil {
			return nil, fmt.Errorf("rubric criterion %d (%q) has no score", i+1, c.Dim)
		}
		s, _ := scalarText(pts)
		p, err := strconv.ParseFloat(s, 64)
		if err != nil || p != float64(int64(p)) {
			return nil, fmt.Errorf("rubric criterion %d (%q) has score %v, want an integer", i+1, c.Dim, pts)
		}
		c.Points = int64(p)
		cs = append(cs, c)
	}
	if err := rubric.Validate(cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// ImageRoot, SkipsBadItems and MaxImageBytes return the options the
// dataset was opened with, for a run's manifest, so that a later command
// (psveval judge, report --format html) opens it alike.
func (d *Dataset) ImageRoot() string    { return d.opts.ImageRoot }
func (d *Dataset) SkipsBadItems() bool  { return d.opts.SkipBadItems }
func (d *Dataset) MaxImageBytes() int64 { return d.opts.MaxImageBytes }
func (d *Dataset) MaxTextBytes() int    { return d.opts.MaxTextBytes }
