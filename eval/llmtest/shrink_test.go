package llmtest

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestShrinkImagesKeepsTheRequest(t *testing.T) {
	long := "data:image/jpeg;base64," + strings.Repeat("/9j/4AAQ", 1000)
	escaped := `data:x\\\"` + strings.Repeat(`\u00e9`, 40)
	for _, c := range []struct {
		body    string
		maxSize int
		keeps   string
	}{
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + long + `"}},{"type":"image_url","image_url":{"url":"` + long + `","detail":"high"}},{"type":"text","text":"What \"url\":\"data: is this?"}]}]}`,
			400, `What \"url\":\"data: is this?`},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + escaped + `"}}]}]}`, 1000, escaped},
		{`{"model":"m","messages":[{"role":"user","content":"no images"}]}`, 100, `"no images"`},
	} {
		got := string(shrinkImages([]byte(c.body)))
		if !json.Valid([]byte(got)) {
			t.Fatalf("shrinkImages made invalid JSON: %s", got)
		}
		if len(got) > c.maxSize || !strings.Contains(got, c.keeps) || strings.Count(got, `"image_url"`) != strings.Count(c.body, `"image_url"`) {
			t.Errorf("shrinkImages(%.80s...) = %s", c.body, got)
		}
	}
}
