package rubric

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends cs as json.Marshal writes them, byte for byte: the
// form judgment keys and dataset fingerprints hash, so it must never
// drift (a test fuzzes it against encoding/json). A nil cs is "null".
// It is written by hand because every item's keys need it several times,
// and reflection made it a measurable share of a run's CPU.
func AppendJSON(b []byte, cs []Criterion) []byte {
	if cs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCriterion(b, c.Dim, c)
	}
	return append(b, ']')
}

// appendCriterion appends c as a JSON object with dim for its label.
func appendCriterion(b []byte, dim string, c Criterion) []byte {
	b = append(b, `{"dim":`...)
	b = appendJSONString(b, dim)
	b = append(b, `,"points":`...)
	b = strconv.AppendInt(b, c.Points, 10)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, c.Description)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// htmlSafe marks the ASCII bytes encoding/json writes as they are with
// HTML escaping on.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json quotes a string with
// HTML escaping on (its default): <, > and & as \u003c, \u003e, \u0026,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
