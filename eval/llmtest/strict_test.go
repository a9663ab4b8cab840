package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestStrictAsRealServers: the fake server answers only under /v1, as
// vLLM and llama-server do, saying where the API root is; a key guards
// the model list too (unless PublicModels, as llama-server); and the
// list names each model once.
func TestStrictAsRealServers(t *testing.T) {
	srv := New(t, Config{APIKey: "k"})
	root := strings.TrimSuffix(srv.URL, "/v1")
	get := func(url, key string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(root+"/models", "k"); code != http.StatusNotFound || !strings.Contains(body, "/v1") {
		t.Errorf("GET /models: %d %s, want 404 naming the /v1 root", code, body)
	}
	if code, _ := get(srv.URL+"/models", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/models without the key: %d, want 401", code)
	}
	code, body := get(srv.URL+"/models", "k")
	var list struct{ Data []struct{ ID string } }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil {
		t.Fatalf("GET /v1/models: %d %s", code, body)
	}
	seen := map[string]bool{}
	for _, m := range list.Data {
		if seen[m.ID] {
			t.Errorf("the model list names %q twice", m.ID)
		}
		seen[m.ID] = true
	}
	public := New(t, Config{APIKey: "k", PublicModels: true})
	if code, _ := get(public.URL+"/models", ""); code != http.StatusOK {
		t.Errorf("PublicModels: GET /v1/models without the key: %d, want 200", code)
	}
}
