package llm

import (
	"bytes"
	"encoding/base64"
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
	if needsEscape(v) {
		return v
	}
	p := blobPrefix + strconv.FormatInt(c.transport.blobs.next.Add(1), 10)
	c.transport.blobs.m.Store(p, v)
	return p
}

// A dataBlob is a value written as its prefix, then its data in base64.
type dataBlob struct {
	prefix string
	data   []byte
}

// BlobBase64 is Blob for the value prefix + base64(data), such as an
// image's data URI ("data:image/jpeg;base64," and the file's bytes): the
// base64 is written straight into the request body, never held as a
// string of its own. The prefix must need no JSON escaping; data is kept,
// not copied, until Drop.
func (c *Client) BlobBase64(prefix string, data []byte) string {
	if needsEscape(prefix) {
		return c.Blob(prefix + base64.StdEncoding.EncodeToString(data))
	}
	p := blobPrefix + strconv.FormatInt(c.transport.blobs.next.Add(1), 10)
	c.transport.blobs.m.Store(p, dataBlob{prefix, data})
	return p
}

func needsEscape(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b == '"' || b == '\\' || b >= 0x7f {
			return true
		}
	}
	return false
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
			out = make([]byte, 0, len(b)+blobLen(v))
		}
		out = append(out, rest[:i+1]...)
		switch v := v.(type) {
		case string:
			out = append(out, v...)
		case dataBlob:
			out = append(out, v.prefix...)
			out = base64.StdEncoding.AppendEncode(out, v.data)
		}
		rest = rest[j:]
	}
	if out == nil {
		return b
	}
	return append(out, rest...)
}

// blobLen is how many bytes a blob's value takes in a body.
func blobLen(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case dataBlob:
		return len(v.prefix) + base64.StdEncoding.EncodedLen(len(v.data))
	}
	return 0
}
