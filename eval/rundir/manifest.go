package rundir

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval"
)

// A Manifest records everything needed to reproduce a run and to refuse
// mixing: what was evaluated, by which model with which parameters, judged
// how, and scored how. It never holds an API key, and URLs in it are
// redacted of credentials.
type Manifest struct {
	Tool     ToolInfo     `json:"tool"`
	Created  string       `json:"created"`
	Finished string       `json:"finished,omitempty"`
	Args     []string     `json:"args,omitempty"`
	Source   string       `json:"source_run,omitempty"`
	Dataset  DatasetInfo  `json:"dataset"`
	Model    EndpointInfo `json:"model"`
	Judges   []JudgeInfo  `json:"judges"`
	// History lists each process that worked on the run, oldest first,
	// with the endpoints it used: a resumed run may have moved servers.
	History  []Session      `json:"history,omitempty"`
	Scoring  ScoringInfo    `json:"scoring"`
	Settings map[string]any `json:"settings"`
	// Prices are the prices the run's cost is computed at, as
	// eval.ParsePrice reads them; nil when none was given.
	Prices *Prices `json:"prices,omitempty"`
}

// Prices are a run's prices in USD per million tokens.
type Prices struct {
	Model string `json:"model,omitempty"`
	Judge string `json:"judge,omitempty"`
}

// Parse reads the prices; a bad one is an error naming the endpoint.
func (p *Prices) Parse() (model, judge eval.Price, err error) {
	if p == nil {
		return model, judge, nil
	}
	if p.Model != "" {
		if model, err = eval.ParsePrice(p.Model); err != nil {
			return model, judge, fmt.Errorf("manifest prices.model: %w", err)
		}
	}
	if p.Judge != "" {
		if judge, err = eval.ParsePrice(p.Judge); err != nil {
			return model, judge, fmt.Errorf("manifest prices.judge: %w", err)
		}
	}
	return model, judge, nil
}

// ToolInfo identifies the psveval build.
type ToolInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"git_revision"`
	GoVersion string `json:"go_version"`
}

// DatasetInfo identifies the items evaluated.
type DatasetInfo struct {
	Path        string `json:"path"`
	Format      string `json:"format"`
	Fingerprint string `json:"fingerprint"`
	Items       int    `json:"items"`
	Limit       int    `json:"limit,omitempty"`
	// Shard is "i/n" when the run evaluated one of n shares of the items.
	Shard string `json:"shard,omitempty"`
	// MergedFrom lists the shard run directories psveval merge joined.
	MergedFrom    []string          `json:"merged_from,omitempty"`
	Mapping       map[string]string `json:"mapping"`
	Skipped       []eval.Skip       `json:"skipped,omitempty"`
	DefaultRubric RubricInfo        `json:"default_rubric"`
	// ClusterBy is how the items' cluster keys, in results.jsonl, were
	// made: image, none, or a column (see eval.ClusterOf).
	ClusterBy string `json:"cluster_by,omitempty"`
	// ImageRoot, SkipBadItems and MaxImageBytes are how the run opened
	// the dataset (--image-root, --skip-bad-items, --max-image-bytes), so
	// that psveval judge and the HTML report open it alike.
	ImageRoot     string `json:"image_root,omitempty"`
	SkipBadItems  bool   `json:"skip_bad_items,omitempty"`
	MaxImageBytes int64  `json:"max_image_bytes,omitempty"`
	MaxTextBytes  int    `json:"max_text_bytes,omitempty"`
}

// SkippedNote says how many items --skip-bad-items left out of the run
// labelled label, or "" when it left out none.
func (d DatasetInfo) SkippedNote(label string) string {
	if len(d.Skipped) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %s skipped by --skip-bad-items (bad image or oversized text) are in no count; manifest.json lists them", label, eval.Nouns(len(d.Skipped), "item"))
}

// A Session is one process's part of a run: when it started, its
// arguments and the endpoints it called (URLs redacted).
type Session struct {
	Started   string   `json:"started"`
	Args      []string `json:"args,omitempty"`
	ModelURL  string   `json:"model_url"`
	JudgeURLs []string `json:"judge_urls"`
}

// Session returns the session m describes, started at started.
func (m *Manifest) Session(started string) Session {
	s := Session{Started: started, Args: m.Args, ModelURL: m.Model.URL, JudgeURLs: []string{}}
	for _, j := range m.Judges {
		s.JudgeURLs = append(s.JudgeURLs, j.URL)
	}
	return s
}

// Moved lists the endpoints whose URL differs between m (a run
// directory's manifest) and now, as "model: OLD -> NEW". Moving servers
// does not change a run's answers, so it does not refuse a resume; it is
// printed and kept in the history.
func (m *Manifest) Moved(now *Manifest) []string {
	var out []string
	if m.Model.URL != now.Model.URL {
		out = append(out, fmt.Sprintf("model: %s -> %s", m.Model.URL, now.Model.URL))
	}
	for i, j := range now.Judges {
		if i < len(m.Judges) && m.Judges[i].URL != j.URL {
			out = append(out, fmt.Sprintf("judge %s: %s -> %s", j.Name, m.Judges[i].URL, j.URL))
		}
	}
	return out
}

// RubricInfo identifies a rubric file.
type RubricInfo struct {
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// EndpointInfo describes the model under test.
type EndpointInfo struct {
	URL string `json:"url"`
	// Replicas are the other URLs serving the same model (redacted).
	Replicas       []string       `json:"replicas,omitempty"`
	Model          string         `json:"model"`
	ServedModel    string         `json:"served_model,omitempty"`
	Params         map[string]any `json:"params"`
	SystemPrompt   string         `json:"system_prompt"`
	QuestionSuffix string         `json:"question_suffix"`
}

// JudgeInfo describes one judge.
type JudgeInfo struct {
	Name        string         `json:"name"`
	URL         string         `json:"url"`
	Model       string         `json:"model"`
	ServedModel string         `json:"served_model,omitempty"`
	Params      map[string]any `json:"params"`
	Prompt      PromptInfo     `json:"prompt"`
	Mode        string         `json:"mode"`
	Format      string         `json:"format"`
	// FormatUsed is the reply format the judge ended the run with: Format,
	// or under "auto" the one it fell back to.
	FormatUsed  string `json:"format_used,omitempty"`
	Repairs     int    `json:"repairs"`
	Fingerprint string `json:"fingerprint"`
	// CriterionOrder is "shuffle" when each item's criteria were shown
	// in a random order drawn from CriterionOrderSeed and the item's id
	// (each judgment records the order shown); "" or "fixed" for the
	// rubric's order.
	CriterionOrder     string `json:"criterion_order,omitempty"`
	CriterionOrderSeed uint64 `json:"criterion_order_seed,omitempty"`
}

// PromptInfo identifies a judge prompt template.
type PromptInfo struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// ScoringInfo records how items were scored.
type ScoringInfo struct {
	Rule         string `json:"rule"`
	ItemScore    string `json:"item_score"`
	SecondMetric string `json:"second_metric"`
	Aggregation  string `json:"aggregation"`
}

// ModelID hashes the settings that determine the model's answers, for
// [AnswerKey]: the model name, parameters and prompt settings (not the
// URL: the same model served elsewhere answers the same).
func (e EndpointInfo) ModelID() string {
	b, _ := json.Marshal(struct {
		Model, System, Suffix string
		Params                map[string]any
	}{e.Model, e.SystemPrompt, e.QuestionSuffix, e.Params})
	return string(b)
}

// identity flattens what must not change within a run directory.
func (m *Manifest) identity() map[string]string {
	id := map[string]string{
		"dataset.fingerprint":    m.Dataset.Fingerprint,
		"dataset.mapping":        js(m.Dataset.Mapping),
		"dataset.default_rubric": m.Dataset.DefaultRubric.SHA256,
		"dataset.shard":          m.Dataset.Shard,
		"model.model":            m.Model.Model,
		"model.system_prompt":    m.Model.SystemPrompt,
		"model.question_suffix":  m.Model.QuestionSuffix,
		"scoring.rule":           m.Scoring.Rule,
		"judges.count":           fmt.Sprint(len(m.Judges)),
	}
	for k, v := range m.Model.Params {
		id["model.params."+k] = js(v)
	}
	for i, j := range m.Judges {
		p := fmt.Sprintf("judges[%d].", i)
		id[p+"model"] = j.Model
		id[p+"prompt"] = j.Prompt.SHA256
		id[p+"mode"] = j.Mode
		id[p+"format"] = j.Format
		id[p+"repairs"] = fmt.Sprint(j.Repairs)
		if j.CriterionOrder != "" && j.CriterionOrder != "fixed" {
			id[p+"criterion_order"] = fmt.Sprintf("%s (seed %d)", j.CriterionOrder, j.CriterionOrderSeed)
		}
		for k, v := range j.Params {
			id[p+"params."+k] = js(v)
		}
	}
	return id
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Diff lists the settings that differ between m (a run directory's
// manifest) and now, as "name: <m's> (recorded) vs <now's> (now)": what
// must not change within one run, so a resume refuses any of them.
func (m *Manifest) Diff(now *Manifest) []string {
	var out []string
	for _, d := range differences(m, now, false) {
		out = append(out, fmt.Sprintf("%s: %s (recorded) vs %s (now)", d.Setting, orNone(d.A), orNone(d.B)))
	}
	return out
}

// A Difference is a setting two runs disagree on, with each run's value.
type Difference struct{ Setting, A, B string }

// Incomparable lists what makes the numbers of runs a and b not
// comparable: the items (dataset fingerprint, mapping, default rubric),
// the judging (judge models, parameters, prompts, modes, formats,
// repairs) and the scoring rule. It is Diff's rule without the model
// under test, which comparisons exist to vary: the one rule that resume,
// report, compare, gate and judge apply.
func Incomparable(a, b *Manifest) []Difference {
	return differences(a, b, true)
}

// Explain words the differences between runs labelled a and b as notes,
// one per kind: items, rubric, judging, scoring.
func Explain(a, b string, diffs []Difference) []string {
	var notes []string
	seen := map[string]bool{}
	for _, d := range diffs {
		kind := d.Setting[:strings.IndexAny(d.Setting+".", ".[")]
		if strings.HasPrefix(d.Setting, "dataset.default_rubric") {
			kind = "rubric"
		}
		if seen[kind] {
			continue
		}
		seen[kind] = true
		switch kind {
		case "dataset":
			notes = append(notes, fmt.Sprintf("%s was evaluated on other items than %s (%s %s vs %s): their numbers are not comparable; only items with the same id are paired", b, a, d.Setting, ShortHash(d.B), ShortHash(d.A)))
		case "rubric":
			notes = append(notes, fmt.Sprintf("%s used another default rubric than %s", b, a))
		case "judges":
			notes = append(notes, fmt.Sprintf("%s was judged differently from %s (%s: %s vs %s); differences mix model and judge", b, a, d.Setting, ShortHash(d.B), ShortHash(d.A)))
		case "scoring":
			notes = append(notes, fmt.Sprintf("%s was scored by rule %s, %s by %s", b, d.B, a, d.A))
		}
	}
	return notes
}

// ShortHash shortens a hex digest (a fingerprint, a rubric hash) to its
// first 12 digits for display; other values are returned whole.
func ShortHash(s string) string {
	if len(s) > 12 && !strings.ContainsAny(s, " {[\"") {
		return s[:12]
	}
	return s
}

func differences(m, now *Manifest, comparable bool) []Difference {
	a, b := m.identity(), now.identity()
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var out []Difference
	for _, k := range keys {
		if comparable && (strings.HasPrefix(k, "model.") || k == "dataset.mapping") {
			continue
		}
		if a[k] != b[k] {
			out = append(out, Difference{k, a[k], b[k]})
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &eval.InputError{File: path, Err: fmt.Errorf("not a psveval manifest: %w", err)}
	}
	return &m, nil
}

// Label returns the label a run is shown by: its served model id, else
// its requested model name, else "" (and "" for a nil manifest). It is
// the one statement of that rule.
func (m *Manifest) Label() string {
	switch {
	case m == nil:
		return ""
	case m.Model.ServedModel != "":
		return m.Model.ServedModel
	}
	return m.Model.Model
}

// movingAliases are model names a provider points at newer models over
// time: DeepSeek's deepseek-chat served V3, then V3.1, V3.2, V4.
var movingAliases = map[string]bool{
	"deepseek-chat": true, "deepseek-reasoner": true,
	"gpt-4o": true, "gpt-4o-mini": true, "gpt-4-turbo": true, "gpt-4.1": true, "gpt-4.1-mini": true,
	"gpt-5": true, "gpt-5-mini": true, "o1": true, "o3": true, "o3-mini": true, "o4-mini": true,
	"chatgpt-4o-latest": true,
}

// MovingAlias reports whether model is a name its provider moves to
// newer models over time (deepseek-chat, gpt-4o, any "-latest"), so
// that two runs judged under it on different days may have had two
// different judges.
func MovingAlias(model string) bool {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndex(m, "/"); i >= 0 {
		m = m[i+1:]
	}
	return movingAliases[m] || strings.HasSuffix(m, "-latest")
}

// AliasNotes warn, for a run labelled label, of each judge named by a
// moving alias, with the model the endpoint said it served.
func (m *Manifest) AliasNotes(label string) []string {
	var notes []string
	for _, j := range m.Judges {
		if !MovingAlias(j.Model) {
			continue
		}
		served := "the endpoint named none"
		if j.ServedModel != "" {
			served = fmt.Sprintf("the endpoint served %q", j.ServedModel)
		}
		notes = append(notes, fmt.Sprintf("warning: %s: judge %q is a moving alias, which its provider points at newer models over time (%s, recorded in manifest.json); compare only with runs judged by the same served model", label, j.Model, served))
	}
	return notes
}

// JudgeChange lists the judges whose served model differs between runs
// a and b, as "judge N: X (a) vs Y (b)"; judges without a recorded
// served model are not compared.
func JudgeChange(a, b *Manifest) []string {
	var out []string
	for i := range min(len(a.Judges), len(b.Judges)) {
		x, y := a.Judges[i].ServedModel, b.Judges[i].ServedModel
		if x != "" && y != "" && x != y {
			out = append(out, fmt.Sprintf("judge %d: %q vs %q", i+1, x, y))
		}
	}
	return out
}
