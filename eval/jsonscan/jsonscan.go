// Package jsonscan walks JSON objects without decoding them: it finds the
// members' raw bytes, skipping strings at memchr speed. Reading
// results.jsonl of many runs is dominated by long texts that reports do
// not use, and request bodies carry long prompts that parameter merging
// need not decode; the members wanted are then decoded, and validated, by
// encoding/json.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrSyntax reports malformed JSON.
var ErrSyntax = errors.New("malformed JSON")

// Fields calls fn(key, raw) for each member of the JSON object b whose key
// want accepts. Keys with escapes are compared as written.
func Fields(b []byte, want func(key []byte) bool, fn func(key, raw []byte) error) error {
	_, err := Object(b, want, fn)
	return err
}

// Object is Fields that also returns the index just past the object.
func Object(b []byte, want func(key []byte) bool, fn func(key, raw []byte) error) (int, error) {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, ErrSyntax
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, ErrSyntax
		}
		end, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		i = SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, ErrSyntax
		}
		i = SkipSpace(b, i+1)
		vend, err := SkipValue(b, i)
		if err != nil {
			return 0, err
		}
		if want(key) {
			if err := fn(key, b[i:vend]); err != nil {
				return 0, err
			}
		}
		i = SkipSpace(b, vend)
		if i >= len(b) {
			return 0, ErrSyntax
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, ErrSyntax
		}
	}
}

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, ErrSyntax
		}
		i += j
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		k := i - 1
		for k >= 0 && b[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i + 1, nil
		}
		i++
	}
}

// SkipValue returns the index just past the value starting at b[i].
func SkipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, ErrSyntax
	}
	switch c := b[i]; c {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, ErrSyntax
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, ErrSyntax
		}
		return j, nil
	}
}

// String decodes a JSON string (null gives ""). Escapes are decoded here,
// as encoding/json decodes them (a lone surrogate and invalid UTF-8 give
// U+FFFD); only malformed input goes to encoding/json, for its error.
func String(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		body := raw[1 : len(raw)-1]
		if plainASCII(body) || plain(body) && utf8.Valid(body) {
			return string(body), nil // nearly every string: no escapes
		}
		if s, ok := unquote(body); ok {
			return s, nil
		}
	}
	if string(raw) == "null" {
		return "", nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// plainASCII reports whether b is printable ASCII without quotes or
// backslashes, eight bytes at a time.
func plainASCII(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		ctl := (x - 0x20*lo) & ^x & hi // a byte below 0x20
		bs := x ^ 0x5c*lo              // zero where a byte is '\\'
		back := (bs - lo) & ^bs & hi
		qs := x ^ 0x22*lo // zero where a byte is '"'
		quote := (qs - lo) & ^qs & hi
		if ctl|back|quote|(x&hi) != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '\\' || c == '"' || c >= 0x80 {
			return false
		}
	}
	return true
}

// plain reports whether b holds no control character, quote or
// backslash: a string body that is its own value, if valid UTF-8.
func plain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// unquote decodes the body of a JSON string; it reports false for one
// that is malformed: a raw control character, a bad escape or an
// unescaped quote.
func unquote(b []byte) (string, bool) {
	var stack [512]byte // most strings with escapes are short: one allocation, the string's
	out := stack[:0]
	if len(b) > len(stack) {
		out = make([]byte, 0, len(b))
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf && plainSet[c] { // a run of printable ASCII, copied at once
			j := i + 1
			for j < len(b) && b[j] < utf8.RuneSelf && plainSet[b[j]] {
				j++
			}
			out = append(out, b[i:j]...)
			i = j
			continue
		}
		switch {
		case c == '"' || c < 0x20:
			return "", false
		case c == '\\':
			if i+1 >= len(b) {
				return "", false
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b[i+2:])
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok := rune(-1), false
					if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						r2, ok = hex4(b[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, b[i:i+size]...)
			}
			i += size
		}
	}
	return string(out), true
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// Array calls fn with the raw bytes of each element of the JSON array b
// (null is an empty array).
func Array(b []byte, fn func(raw []byte) error) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return ErrSyntax
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for {
		end, err := SkipValue(b, i)
		if err != nil {
			return err
		}
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = SkipSpace(b, end)
		if i >= len(b) {
			return ErrSyntax
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case ']':
			return nil
		default:
			return ErrSyntax
		}
	}
}

// AppendString appends s as a JSON string, byte for byte as encoding/json
// writes it: invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped, and, with
// html, <, > and & as \u003c, \u003e and \u0026 (json.Marshal's default;
// an Encoder with SetEscapeHTML(false) leaves them).
func AppendString(b []byte, s string, html bool) []byte {
	safe := &plainSet
	if html {
		safe = &htmlSafeSet
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
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

const hexDigits = "0123456789abcdef"

// plainSet marks the ASCII bytes a JSON string holds as they are;
// htmlSafeSet leaves out <, > and & too.
var plainSet, htmlSafeSet = func() (plain, html [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}()
