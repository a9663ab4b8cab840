package cmdline

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
)

// List is a repeatable string flag.
type List []string

func (l *List) String() string     { return strings.Join(*l, ",") }
func (l *List) Set(s string) error { *l = append(*l, s); return nil }

// Mapping accumulates --map role=column[,role=column...].
type Mapping struct{ M dataset.Mapping }

func (f *Mapping) String() string {
	if f.M == nil {
		return ""
	}
	return f.M.String()
}

func (f *Mapping) Set(s string) error {
	m, err := dataset.ParseMapping(s)
	if err != nil {
		return err
	}
	if f.M == nil {
		f.M = dataset.Mapping{}
	}
	maps.Copy(f.M, m)
	return nil
}

// Params accumulates key=value flags such as --model-param. The value is
// read as JSON when it parses (numbers, true, objects), else as a string.
// key=null removes a default parameter.
type Params struct{ kv []string }

func (p *Params) String() string { return strings.Join(p.kv, ",") }
func (p *Params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	// A value that starts like JSON must be JSON: {bad would otherwise be
	// sent as the string "{bad".
	if t := strings.TrimSpace(v); t != "" && strings.ContainsRune(`{["`, rune(t[0])) && !json.Valid([]byte(t)) {
		var x any
		return fmt.Errorf("%s: the value %q is not valid JSON (%v)", strings.TrimSpace(k), v, json.Unmarshal([]byte(t), &x))
	}
	p.kv = append(p.kv, s)
	return nil
}

// Apply writes the flags over defaults and returns the result.
func (p *Params) Apply(defaults map[string]any) map[string]any {
	return llm.ApplyParams(defaults, p.kv)
}

// Conc is a concurrency flag: a number of requests in flight, or auto.
type Conc struct {
	N    *int
	Auto *bool
}

func (c Conc) String() string {
	if c.N == nil {
		return ""
	}
	if *c.Auto {
		return "auto"
	}
	return strconv.Itoa(*c.N)
}

func (c Conc) Set(s string) error {
	if s == "auto" {
		*c.Auto = true
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want a number of requests or auto, got %q", s)
	}
	*c.N, *c.Auto = n, false
	return nil
}

func (c Conc) kind() string { return "an integer or auto" }

// Price is a --judge-price or --model-price value.
type Price struct{ P eval.Price }

func (f *Price) String() string { return f.P.String() }

func (f *Price) Set(s string) error {
	p, err := eval.ParsePrice(s)
	if err != nil {
		return err
	}
	f.P = p
	return nil
}
