package judges

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
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
func findVerdict(text string) ([]map[string]any, error) {
	var found [][]map[string]any
	tries := 0
	for i := 0; i < len(text) && tries < maxCandidates; i++ {
		if text[i] != '{' && text[i] != '[' {
			continue
		}
		tries++
		v, n, ok := decodeAt(text[i:])
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

// decodeAt decodes the JSON value at the start of s, tolerating trailing
// commas. It returns the value and how many bytes it took.
func decodeAt(s string) (any, int, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		return v, int(dec.InputOffset()), true
	}
	// Retry without trailing commas, a common slip, within the value's
	// bracket span.
	end := bracketEnd(s)
	if end < 0 {
		return nil, 0, false
	}
	fixed := trailingComma.ReplaceAllString(s[:end], "$1")
	if err := json.Unmarshal([]byte(fixed), &v); err != nil {
		return nil, 0, false
	}
	return v, end, true
}

var trailingComma = regexp.MustCompile(`,\s*([}\]])`)

// bracketEnd returns the length of the bracketed span starting s, minding
// strings, or -1.
func bracketEnd(s string) int {
	depth, inStr, esc := 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// verdictEntries returns the criterion entries v holds, if v is shaped as
// a verdict.
func verdictEntries(v any) ([]map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		if list, ok := get(x, "criteria", "verdicts", "results", "rubric"); ok {
			entries, ok := objects(list)
			return entries, ok
		}
		if _, ok := get(x, metKeys...); ok {
			return []map[string]any{x}, true // a single criterion
		}
	case []any:
		entries, ok := objects(x)
		if ok && len(entries) > 0 {
			if _, hasMet := get(entries[0], metKeys...); hasMet {
				return entries, true
			}
		}
	}
	return nil, false
}

func objects(v any) ([]map[string]any, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

var (
	dimKeys = []string{"dim", "dimension", "criterion", "name", "id"}
	metKeys = []string{"met", "satisfied", "meets", "passed", "pass", "verdict"}
	whyKeys = []string{"explanation", "reason", "rationale", "justification", "comment"}
)

// get returns the value of the first of keys present in m, matching keys
// case-insensitively.
func get(m map[string]any, keys ...string) (any, bool) {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v, true
		}
		for mk, v := range m {
			if strings.EqualFold(mk, k) {
				return v, true
			}
		}
	}
	return nil, false
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

func normDim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// match assigns entries to labels, exactly once each.
func match(entries []map[string]any, labels []string) ([]Mark, error) {
	type entry struct {
		dim  string
		hasD bool
		mark Mark
	}
	es := make([]entry, len(entries))
	named := 0
	for i, m := range entries {
		var e entry
		if d, ok := get(m, dimKeys...); ok {
			if s, ok := d.(string); ok && strings.TrimSpace(s) != "" {
				e.dim, e.hasD = s, true
				named++
			}
		}
		mv, ok := get(m, metKeys...)
		if !ok {
			return nil, parseErrorf("criterion %s has no \"met\"", entryName(e.dim, i))
		}
		if e.mark.Met, ok = parseMet(mv); !ok {
			return nil, parseErrorf("criterion %s has \"met\": %s; want true or false", entryName(e.dim, i), compact(mv))
		}
		if w, ok := get(m, whyKeys...); ok {
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
	want := make(map[string]int, len(labels))
	for i, l := range labels {
		want[normDim(l)] = i
	}
	seen := make([]bool, len(labels))
	var unknown, dups []string
	for _, e := range es {
		i, ok := want[normDim(e.dim)]
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
