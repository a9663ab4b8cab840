package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A Cache keeps judgments across runs, keyed by content: the judge's
// fingerprint, the question, the reference, the rubric and the answer. A
// second run whose answers coincide with an earlier one's, such as a λ
// sweep where many answers repeat, pays for no judgment twice.
//
// Each entry is its own file, written to a temporary name and renamed into
// place, so concurrent runs may share a cache without locks, and a crash
// leaves no half-written entry. A Cache is safe for concurrent use.
type Cache struct {
	dir string
}

// DefaultCacheDir returns psveval's folder under the user's cache
// directory, or "" when the system has none.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "psveval")
}

// OpenCache opens (creating it if need be) the cache in dir.
func OpenCache(dir string) (*Cache, error) {
	d := filepath.Join(dir, "judgments")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Cache{dir: d}, nil
}

func (c *Cache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

// Get reads key's judgment into v, reporting false on a miss. An entry
// that does not parse counts as a miss.
func (c *Cache) Get(key string, v any) bool {
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// Put stores v under key.
func (c *Cache) Put(key string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := createTemp(filepath.Dir(p), ".tmp-")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// A jsonAppender writes itself as json.Marshal would, faster: a record
// on a run's hot path.
type jsonAppender interface{ AppendJSON([]byte) []byte }

// marshal is json.Marshal, by AppendJSON where v has it.
func marshal(v any) ([]byte, error) {
	if a, ok := v.(jsonAppender); ok {
		return a.AppendJSON(nil), nil
	}
	return json.Marshal(v)
}
