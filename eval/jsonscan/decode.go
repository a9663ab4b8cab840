package jsonscan

import "encoding/json"

// Decode returns the value of b, which must be valid JSON (Valid(b) is
// true: Decode does not check it again), as encoding/json's Decoder with
// UseNumber decodes it into an any: objects as map[string]any, a repeated
// key taking its last value; arrays as []any; strings unescaped, invalid
// UTF-8 as U+FFFD; numbers as json.Number. It walks b once, where
// walking each value's extent and then its insides read b several times.
func Decode(b []byte) (any, error) {
	v, _, err := (&decoder{maxDepth: maxNesting + 1}).at(b, SkipSpace(b, 0), 0)
	return v, err
}

// A Decoder decodes as [Decode] does, and keeps the object keys it has
// read, so that the lines of a file, whose objects share their keys,
// share their keys' strings too. It keeps at most maxKeys keys. A Decoder
// is not safe for concurrent use; its zero value is ready.
type Decoder struct {
	keys  map[string]string
	width int // the members of the last top-level object: the next one's size hint
}

// maxKeys bounds the keys a Decoder keeps: enough for a dataset's columns
// and its rubric's fields.
const maxKeys = 256

// Decode returns the value of b as [Decode] does.
func (d *Decoder) Decode(b []byte) (any, error) {
	if d.keys == nil {
		d.keys = map[string]string{}
	}
	v, _, err := (&decoder{maxDepth: maxNesting + 1, keys: d.keys, width: d.width}).at(b, SkipSpace(b, 0), 0)
	if m, ok := v.(map[string]any); ok {
		d.width = len(m)
	}
	return v, err
}

// A decoder decodes valid JSON in one walk. With members, objects are
// Members (Tolerant's tree), else maps (encoding/json's). A value nested
// deeper than maxDepth is refused. With keys, object keys are kept there
// by their text and reused; width sizes a top-level map.
type decoder struct {
	members  bool
	maxDepth int
	keys     map[string]string
	width    int
}

// key decodes the object key raw (quotes included), reusing the string
// of a key written the same way before: the same text always decodes to
// the same key, escapes or not.
func (d *decoder) key(raw []byte) (string, error) {
	if d.keys == nil {
		return String(raw)
	}
	if k, ok := d.keys[string(raw)]; ok { // does not allocate
		return k, nil
	}
	k, err := String(raw)
	if err == nil && len(d.keys) < maxKeys {
		d.keys[string(raw)] = k
	}
	return k, err
}

// at decodes the value at b[i], nested depth deep, and returns the index
// past it.
func (d *decoder) at(b []byte, i, depth int) (any, int, error) {
	if depth > d.maxDepth {
		return nil, i, errTooDeep
	}
	switch c := b[i]; c {
	case '{':
		var m map[string]any
		var ms Members
		switch {
		case d.members:
			ms = Members{}
		case depth == 0 && d.width > 0:
			m = make(map[string]any, d.width)
		default:
			m = map[string]any{}
		}
		obj := func() any {
			if d.members {
				return ms
			}
			return m
		}
		i = SkipSpace(b, i+1)
		if b[i] == '}' {
			return obj(), i + 1, nil
		}
		for {
			end := stringEnd(b, i)
			key, err := d.key(b[i:end])
			if err != nil {
				return nil, end, err
			}
			i = SkipSpace(b, SkipSpace(b, end)+1) // past the colon
			var v any
			if v, i, err = d.at(b, i, depth+1); err != nil {
				return nil, i, err
			}
			if d.members {
				ms = append(ms, Member{key, v})
			} else {
				m[key] = v
			}
			i = SkipSpace(b, i)
			if b[i] == '}' {
				return obj(), i + 1, nil
			}
			i = SkipSpace(b, i+1) // past the comma
		}
	case '[':
		list := []any{}
		i = SkipSpace(b, i+1)
		if b[i] == ']' {
			return list, i + 1, nil
		}
		for {
			v, j, err := d.at(b, i, depth+1)
			if err != nil {
				return nil, j, err
			}
			list = append(list, v)
			i = SkipSpace(b, j)
			if b[i] == ']' {
				return list, i + 1, nil
			}
			i = SkipSpace(b, i+1)
		}
	case '"':
		end := stringEnd(b, i)
		s, err := String(b[i:end])
		return s, end, err
	case 't':
		return true, i + 4, nil
	case 'f':
		return false, i + 5, nil
	case 'n':
		return nil, i + 4, nil
	}
	j := i + 1
	for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
		j++
	}
	return json.Number(b[i:j]), j, nil
}

// stringEnd returns the index past the valid string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++
		}
	}
}
