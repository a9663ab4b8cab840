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

// A decoder decodes valid JSON in one walk. With members, objects are
// Members (Tolerant's tree), else maps (encoding/json's). A value nested
// deeper than maxDepth is refused.
type decoder struct {
	members  bool
	maxDepth int
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
		if d.members {
			ms = Members{}
		} else {
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
			key, err := String(b[i:end])
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
