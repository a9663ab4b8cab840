package jsonscan

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
)

// Tolerant decodes the JSON value at the start of s, tolerating trailing
// commas. It returns the value and how many bytes it took. Objects decode
// as [Members], keeping every member in order, duplicates included, so
// that matching keys is deterministic and duplicates can be seen.
func Tolerant(s string) (any, int, bool) {
	if v, n, ok := decodeValid(s); ok {
		return v, n, true
	}
	return decodeTokens(s)
}

// decodeTokens is Tolerant with json.Decoder's tokens: it takes what
// decodeValid does not, trailing commas and values cut short.
func decodeTokens(s string) (any, int, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if v, err := decodeValue(dec); err == nil {
		return v, int(dec.InputOffset()), true
	}
	// Retry without trailing commas, a common slip, within the value's
	// bracket span.
	end := bracketEnd(s)
	if end < 0 {
		return nil, 0, false
	}
	fixed := trailingComma.ReplaceAllString(s[:end], "$1")
	dec = json.NewDecoder(strings.NewReader(fixed))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil || dec.More() {
		return nil, 0, false
	}
	return v, end, true
}

// Members are a JSON object's members in order, duplicates included.
type Members []Member

// A Member is one member of an object.
type Member struct {
	Key string
	Val any
}

// maxDepth bounds nesting, so that a reply of a million brackets cannot
// exhaust the stack.
const MaxDepth = 64

// decodeValue decodes one JSON value from dec: objects as [Members],
// arrays as []any, numbers as json.Number.
func decodeValue(dec *json.Decoder) (any, error) {
	return decodeDepth(dec, 0)
}

func decodeDepth(dec *json.Decoder, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, errors.New("too deeply nested")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := Members{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := decodeDepth(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, Member{k, v})
		}
		_, err := dec.Token() // '}'
		return obj, err
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := decodeDepth(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ']'
		return list, err
	}
	return tok, nil
}

// decodeValid is Tolerant for the common case, a value that is valid JSON
// as it stands, checked and then decoded in one walk each instead of
// json.Decoder's tokens. It gives what decodeValue gives, and reports
// false for anything else, for Tolerant's slower path to handle.
func decodeValid(s string) (any, int, bool) {
	b := []byte(s)
	end, ok := validValue(b, 0, 0)
	if !ok {
		return nil, 0, false
	}
	v, _, err := (&decoder{members: true, maxDepth: MaxDepth}).at(b[:end], 0, 0)
	return v, end, err == nil
}

var errTooDeep = errors.New("too deeply nested")

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
