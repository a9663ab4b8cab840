package llm

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
)

// Blobs let a request carry long string values (an image's base64 data
// URI, 100 KB and more) without go-openai JSON-encoding them: encoding/json
// escapes every byte of a string and then compacts the marshalled message
// again, which cost more CPU than all the rest of a request. The caller
// puts a short placeholder in the request; the transport writes the value
// into the body in its place, once.
type blobs struct {
	next atomic.Int64
	m    sync.Map // placeholder → value
}

const blobPrefix = "psveval-blob:"

// Blob registers v, a string value that needs no JSON escaping (base64, a
// data URI), and returns the placeholder to send instead; the request's
// body will hold v. Call Drop with it once the request is done. A value
// that would need escaping is returned as it is, to be encoded normally.
func (c *Client) Blob(v string) string {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b == '"' || b == '\\' || b >= 0x7f {
			return v
		}
	}
	p := blobPrefix + strconv.FormatInt(c.transport.blobs.next.Add(1), 10)
	c.transport.blobs.m.Store(p, v)
	return p
}

// Drop forgets a placeholder Blob returned.
func (c *Client) Drop(placeholder string) { c.transport.blobs.m.Delete(placeholder) }

// expand writes every registered value into b in place of its quoted
// placeholder.
func (bs *blobs) expand(b []byte) []byte {
	marker := []byte(`"` + blobPrefix)
	if !bytes.Contains(b, marker) {
		return b
	}
	var out []byte
	rest := b
	for {
		i := bytes.Index(rest, marker)
		if i < 0 {
			break
		}
		j := i + len(marker)
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		v, ok := bs.m.Load(string(rest[i+1 : j]))
		if !ok || j >= len(rest) || rest[j] != '"' {
			out = append(out, rest[:j]...) // not ours: leave it
			rest = rest[j:]
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b)+len(v.(string)))
		}
		out = append(out, rest[:i+1]...)
		out = append(out, v.(string)...)
		rest = rest[j:]
	}
	if out == nil {
		return b
	}
	return append(out, rest...)
}
