package rubric

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"text/template"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// The names of the built-in judge prompt templates.
const (
	PromptJoint        = "joint-v1"
	PromptPerCriterion = "per-criterion-v1"
)

// A Prompt is a versioned judge prompt template. It renders two messages:
// a system message that holds the fixed instructions and one worked example,
// identical for every item so that the judge API's prefix cache can reuse it,
// and a user message that holds the item's content last.
//
// A Prompt is safe for concurrent use.
type Prompt struct {
	// Name is the template's name: a built-in name, or the file path.
	Name string
	// Hash is the hex SHA-256 of the template file's bytes.
	Hash string
	tmpl *template.Template
}

// LoadPrompt returns the built-in template called name (see [PromptJoint]),
// or, when name ends in ".tmpl", the template in that file. A template
// defines two templates, "system" and "user"; see prompts/joint-v1.tmpl.
func LoadPrompt(name string) (*Prompt, error) {
	var b []byte
	var err error
	if strings.HasSuffix(name, ".tmpl") {
		b, err = os.ReadFile(name)
	} else {
		b, err = promptFS.ReadFile("prompts/" + name + ".tmpl")
		if err != nil {
			err = fmt.Errorf("no built-in judge prompt %q (have %s, %s, or give a .tmpl file)", name, PromptJoint, PromptPerCriterion)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	t, err := template.New(filepath.Base(name)).Option("missingkey=error").Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("rubric: judge prompt %s: %w", name, err)
	}
	for _, part := range []string{"system", "user"} {
		if t.Lookup(part) == nil {
			return nil, fmt.Errorf("rubric: judge prompt %s defines no %q template", name, part)
		}
	}
	sum := sha256.Sum256(b)
	return &Prompt{Name: name, Hash: hex.EncodeToString(sum[:]), tmpl: t}, nil
}

// MustPrompt is like [LoadPrompt] for built-in names; it panics on error.
func MustPrompt(name string) *Prompt {
	p, err := LoadPrompt(name)
	if err != nil {
		panic(err)
	}
	return p
}

// Version names the template and its content, as recorded in manifests.
func (p *Prompt) Version() string {
	return p.Name + "@" + p.Hash[:12]
}

// PromptInput is what a judge prompt shows for one item.
type PromptInput struct {
	Question  string
	Reference string
	Answer    string
	// Criteria are the criteria to grade, and Labels their unique labels
	// (see [Labels]), which the judge must copy into its reply.
	Criteria []Criterion
	Labels   []string
}

// Render returns the system and user messages for in. The question, the
// reference and the model's answer are neutralised first: any copy of the
// prompt's own delimiters inside them is escaped, so the answer cannot close
// its <model_answer> block and pose as instructions. Criteria are rendered
// as JSON lines, whose encoding escapes "<" and ">".
func (p *Prompt) Render(in PromptInput) (system, user string, err error) {
	if len(in.Labels) != len(in.Criteria) {
		return "", "", fmt.Errorf("rubric: %d labels for %d criteria", len(in.Labels), len(in.Criteria))
	}
	lines := make([]string, len(in.Criteria))
	var b []byte
	for i, c := range in.Criteria {
		b = appendCriterion(b[:0], in.Labels[i], c) // as json.Marshal writes it
		lines[i] = string(b)
	}
	data := struct {
		Question, Reference, Answer string
		Criteria                    []string
	}{Neutralize(in.Question), Neutralize(in.Reference), Neutralize(in.Answer), lines}
	buf := renderBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			renderBufs.Put(buf)
		}
	}()
	for _, part := range [...]struct {
		name string
		out  *string
	}{{"system", &system}, {"user", &user}} {
		buf.Reset()
		if err := p.tmpl.ExecuteTemplate(buf, part.name, data); err != nil {
			return "", "", fmt.Errorf("rubric: render %s: %w", p.Name, err)
		}
		*part.out = buf.String()
	}
	return system, user, nil
}

// renderBufs holds buffers for Render: the prompts of one run are much of
// a size, so a buffer that grew to one holds the next.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// delimiter matches the opening of any tag the prompts use as a delimiter,
// in any case and with any spacing: "<model_answer", "</ Criteria", ...
var delimiter = regexp.MustCompile(`(?i)<\s*/?\s*(?:question|reference_answer|model_answer|criteria|criterion)\b`)

// Neutralize escapes the "<" of every prompt delimiter found in s as "&lt;",
// leaving all other text as it is. The result cannot open or close a prompt
// section, and still reads the same to a human or a model.
func Neutralize(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	return delimiter.ReplaceAllStringFunc(s, func(m string) string {
		return "&lt;" + m[1:]
	})
}
