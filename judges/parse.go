package judges

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/psveval/psveval/eval/jsonscan"
)

// MaxReplyBytes bounds the part of a reply the parser looks at.
const MaxReplyBytes = 64 << 10

// maxCandidates bounds the JSON values tried, so that a reply full of
// brackets costs linear time, not quadratic.
const maxCandidates = 64

// A ParseError says why a judge reply could not be used. Its message is
// quoted back to the judge in a repair request.
type ParseError struct{ Reason string }

func (e *ParseError) Error() string { return e.Reason }

func parseErrorf(format string, args ...any) *ParseError {
	return &ParseError{fmt.Sprintf(format, args...)}
}

// A Mark is one criterion's parsed verdict.
type Mark struct {
	Met         bool
	Explanation string
}

// ParseVerdict reads a judge reply and returns one Mark per label, in the
// labels' order. The reply may wrap its JSON in code fences, precede it
// with a <think> block or prose, follow it with prose, spell booleans as
// "yes", "no", "true", 1 or 0, and use keys in another case. If content is
// blank, reasoning (DeepSeek's reasoning_content) is read instead.
//
// It is strict about identity: the reply must hold exactly one verdict
// object, and each label must be matched exactly once, by dim, or by
// position when no entry names a dim. Otherwise it returns a *ParseError.
func ParseVerdict(content, reasoning string, labels []string) ([]Mark, error) {
	text := content
	if strings.TrimSpace(text) == "" {
		text = reasoning
	}
	if strings.TrimSpace(text) == "" {
		return nil, parseErrorf("the reply is blank")
	}
	if len(text) > MaxReplyBytes {
		text = text[:MaxReplyBytes]
	}
	text = stripThinking(text)
	entries, err := findVerdict(text)
	if err != nil {
		return nil, err
	}
	return match(entries, labels)
}

var thinkBlock = regexp.MustCompile(`(?is)<think(?:ing)?>.*?</think(?:ing)?>`)

// stripThinking removes <think>…</think> blocks, and everything before a
// stray closing tag (some servers drop the opening one).
func stripThinking(s string) string {
	if strings.IndexByte(s, '<') < 0 {
		return s // no tag at all: most replies
	}
	s = thinkBlock.ReplaceAllString(s, "")
	for _, tag := range []string{"</think>", "</thinking>"} {
		if i := strings.LastIndex(strings.ToLower(s), tag); i >= 0 {
			s = s[i+len(tag):]
		}
	}
	return s
}

// findVerdict finds the one verdict in text: an object with a "criteria"
// list, a bare list of criterion objects, or a single criterion object.
// Every JSON value in the text is considered; more than one distinct
// verdict is an error, since the reply is then ambiguous.
func findVerdict(text string) ([]object, error) {
	var found [][]object
	tries := 0
	for i := 0; i < len(text) && tries < maxCandidates; i++ {
		if text[i] != '{' && text[i] != '[' {
			continue
		}
		tries++
		v, n, ok := jsonscan.Tolerant(text[i:])
		if !ok {
			continue
		}
		if entries, ok := verdictEntries(v); ok {
			dup := false
			for _, f := range found {
				if reflect.DeepEqual(f, entries) {
					dup = true
					break
				}
			}
			if !dup {
				found = append(found, entries)
			}
		}
		i += n - 1 // skip the value: its insides are not separate verdicts
	}
	switch len(found) {
	case 0:
		return nil, parseErrorf(`no JSON verdict found: reply with one object {"criteria":[{"dim":...,"met":true|false,"explanation":...}]}`)
	case 1:
		return found[0], nil
	}
	return nil, parseErrorf("the reply holds %d different verdicts; reply with exactly one JSON object", len(found))
}

// An object is a JSON object's members in order, duplicates included,
// as [jsonscan.Tolerant] decodes it.
type object jsonscan.Members

// verdictEntries returns the criterion entries v holds, if v is shaped as
// a verdict.
func verdictEntries(v any) ([]object, bool) {
	switch x := v.(type) {
	case jsonscan.Members:
		x2 := object(x)
		if list, ok := x2.find(listKeys...); ok {
			entries, ok := objects(list)
			return entries, ok
		}
		if x2.has(metKeys...) {
			return []object{x2}, true // a single criterion
		}
	case []any:
		entries, ok := objects(x)
		if ok && len(entries) > 0 && entries[0].has(metKeys...) {
			return entries, true
		}
	}
	return nil, false
}

func objects(v any) ([]object, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]object, 0, len(list))
	for _, e := range list {
		m, ok := e.(jsonscan.Members)
		if !ok {
			return nil, false
		}
		out = append(out, object(m))
	}
	return out, true
}

var (
	listKeys = []string{"criteria", "verdicts", "results", "rubric"}
	dimKeys  = []string{"dim", "dimension", "criterion", "name", "id"}
	metKeys  = []string{"met", "satisfied", "meets", "passed", "pass", "verdict"}
	whyKeys  = []string{"explanation", "reason", "rationale", "justification", "comment"}
)

// has reports whether o has a member named by one of keys, in any case.
func (o object) has(keys ...string) bool {
	for _, m := range o {
		for _, k := range keys {
			if strings.EqualFold(m.Key, k) {
				return true
			}
		}
	}
	return false
}

// find returns the value of the first of keys that o has (see lookup),
// ignoring ambiguity: it is for the list that holds the criteria, whose
// shape decides it.
func (o object) find(keys ...string) (any, bool) {
	for _, k := range keys {
		if v, ok, err := o.lookup(k); ok && err == nil {
			return v, true
		}
	}
	return nil, false
}

// lookup returns the value of the member named key. An exact key wins
// over its case variants; several members of the same name (exact, or
// case variants when no exact one is there) that disagree are ambiguous.
// The answer never depends on an iteration order.
func (o object) lookup(key string) (any, bool, error) {
	var exact, folded []any
	for _, m := range o {
		switch {
		case m.Key == key:
			exact = append(exact, m.Val)
		case strings.EqualFold(m.Key, key):
			folded = append(folded, m.Val)
		}
	}
	vals := exact
	if len(vals) == 0 {
		vals = folded
	}
	if len(vals) == 0 {
		return nil, false, nil
	}
	for _, v := range vals[1:] {
		if !reflect.DeepEqual(v, vals[0]) {
			return nil, false, parseErrorf("the reply gives %q more than once, with different values; give it once", key)
		}
	}
	return vals[0], true, nil
}

// get returns the value for a field that keys name as synonyms. Every
// synonym present must give the same value, as same judges (nil: the
// first synonym present wins); otherwise the reply is ambiguous.
func (o object) get(same func(a, b any) bool, keys ...string) (any, bool, error) {
	var val any
	var from string
	found := false
	for _, k := range keys {
		v, ok, err := o.lookup(k)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			continue
		}
		if !found {
			val, from, found = v, k, true
			if same == nil {
				break
			}
			continue
		}
		if !same(val, v) {
			return nil, false, parseErrorf("the reply gives both %q and %q, which disagree; give \"%s\" once", from, k, keys[0])
		}
	}
	return val, found, nil
}

// sameMet reports whether two met values say the same.
func sameMet(a, b any) bool {
	x, okx := parseMet(a)
	y, oky := parseMet(b)
	return okx == oky && x == y
}

// sameDim reports whether two dim values name the same criterion.
func sameDim(a, b any) bool {
	x, _ := a.(string)
	y, _ := b.(string)
	return strings.TrimSpace(x) == strings.TrimSpace(y)
}

// parseMet reads a met value: a boolean, a yes/no word, or 1/0.
func parseMet(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case json.Number:
		switch x.String() {
		case "1", "1.0":
			return true, true
		case "0", "0.0":
			return false, true
		}
	case string:
		switch strings.Trim(strings.ToLower(strings.TrimSpace(x)), ".!") {
		case "true", "yes", "y", "met", "pass", "passed", "satisfied", "1":
			return true, true
		case "false", "no", "n", "not met", "unmet", "fail", "failed", "not satisfied", "0":
			return false, true
		}
	}
	return false, false
}

// match assigns entries to labels, exactly once each. A dim matches the
// label it equals; failing that, the one label it equals ignoring case
// and surrounding space, if only one does.
func match(entries []object, labels []string) ([]Mark, error) {
	type entry struct {
		dim  string
		hasD bool
		mark Mark
	}
	es := make([]entry, len(entries))
	named := 0
	for i, m := range entries {
		var e entry
		d, ok, err := m.get(sameDim, dimKeys...)
		if err != nil {
			return nil, err
		}
		if ok {
			if s, ok := d.(string); ok && strings.TrimSpace(s) != "" {
				e.dim, e.hasD = strings.TrimSpace(s), true
				named++
			}
		}
		mv, ok, err := m.get(sameMet, metKeys...)
		if err != nil {
			return nil, parseErrorf("criterion %s: %s", entryName(e.dim, i), err)
		}
		if !ok {
			return nil, parseErrorf("criterion %s has no \"met\"", entryName(e.dim, i))
		}
		if e.mark.Met, ok = parseMet(mv); !ok {
			return nil, parseErrorf("criterion %s has \"met\": %s; want true or false", entryName(e.dim, i), compact(mv))
		}
		if w, ok, _ := m.get(nil, whyKeys...); ok {
			if s, ok := w.(string); ok {
				e.mark.Explanation = s
			}
		}
		es[i] = e
	}
	marks := make([]Mark, len(labels))
	switch {
	case named == 0:
		if len(es) != len(labels) {
			return nil, parseErrorf("the reply grades %d criteria without dims, want %d: %s", len(es), len(labels), strings.Join(labels, ", "))
		}
		for i, e := range es {
			marks[i] = e.mark
		}
		return marks, nil
	case named < len(es):
		return nil, parseErrorf("some criteria have no \"dim\"; give each its dim: %s", strings.Join(labels, ", "))
	}
	exact := make(map[string]int, len(labels))
	folded := make(map[string][]int, len(labels))
	for i, l := range labels {
		exact[l] = i
		k := strings.ToLower(strings.TrimSpace(l))
		folded[k] = append(folded[k], i)
	}
	seen := make([]bool, len(labels))
	var unknown, dups []string
	for _, e := range es {
		i, ok := exact[e.dim]
		if !ok {
			if f := folded[strings.ToLower(e.dim)]; len(f) == 1 {
				i, ok = f[0], true
			}
		}
		switch {
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%q", e.dim))
		case seen[i]:
			dups = append(dups, fmt.Sprintf("%q", labels[i]))
		default:
			seen[i] = true
			marks[i] = e.mark
		}
	}
	var missing []string
	for i, s := range seen {
		if !s {
			missing = append(missing, fmt.Sprintf("%q", labels[i]))
		}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing criteria "+strings.Join(missing, ", "))
	}
	if len(dups) > 0 {
		problems = append(problems, "criteria graded twice "+strings.Join(dups, ", "))
	}
	if len(unknown) > 0 {
		problems = append(problems, "unknown criteria "+strings.Join(unknown, ", "))
	}
	if len(problems) > 0 {
		return nil, parseErrorf("%s; grade exactly these dims, once each: %s", strings.Join(problems, "; "), strings.Join(labels, ", "))
	}
	return marks, nil
}

func entryName(dim string, i int) string {
	if dim != "" {
		return fmt.Sprintf("%q", dim)
	}
	return fmt.Sprintf("#%d", i+1)
}

func compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	s := strings.TrimSpace(b.String())
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}
