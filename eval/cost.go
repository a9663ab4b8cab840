package eval

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A Price is what an endpoint charges, in USD per million tokens: Input
// for prompt tokens missing the provider's cache, Cached for those it
// hits, Output for completion tokens. A zero Price charges nothing.
type Price struct {
	Input, Cached, Output float64
	// HasCached is false when no cached price was given: cache hits are
	// then billed at the input price.
	HasCached bool
}

// ParsePrice reads "input=0.28,cached=0.028,output=0.42" (any order,
// cached optional). A key other than those, a repeated key, or a value
// that is not a number of 0 or more is an error naming it.
func ParsePrice(s string) (Price, error) {
	var p Price
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok {
			return Price{}, fmt.Errorf("%q: want key=USD per million tokens, keys input, cached and output", part)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
			return Price{}, fmt.Errorf("%s=%s: want a price of 0 or more USD per million tokens", k, strings.TrimSpace(v))
		}
		if seen[k] {
			return Price{}, fmt.Errorf("%s is given twice", k)
		}
		seen[k] = true
		switch k {
		case "input":
			p.Input = x
		case "cached":
			p.Cached, p.HasCached = x, true
		case "output":
			p.Output = x
		default:
			return Price{}, fmt.Errorf("unknown key %q: want input, cached and output (USD per million tokens)", k)
		}
	}
	if !seen["input"] || !seen["output"] {
		return Price{}, fmt.Errorf("%q: want at least input= and output= (USD per million tokens)", s)
	}
	return p, nil
}

// IsZero reports a price that charges nothing: none was given.
func (p Price) IsZero() bool { return p == Price{} }

// String renders p as ParsePrice reads it.
func (p Price) String() string {
	if p.IsZero() {
		return ""
	}
	s := "input=" + strconv.FormatFloat(p.Input, 'g', -1, 64)
	if p.HasCached {
		s += ",cached=" + strconv.FormatFloat(p.Cached, 'g', -1, 64)
	}
	return s + ",output=" + strconv.FormatFloat(p.Output, 'g', -1, 64)
}

// Cost is what u costs at p, in USD: cache misses at the input price,
// hits at the cached price (the input price when none was given), and
// completion tokens at the output price. Reasoning tokens are part of
// completion_tokens in every dialect psveval reads (OpenAI, vLLM,
// llama-server, DeepSeek), so they are billed there, once.
func (p Price) Cost(u Usage) float64 {
	cached := p.Input
	if p.HasCached {
		cached = p.Cached
	}
	hits := min(u.Cached, u.Prompt)
	return (float64(u.Prompt-hits)*p.Input + float64(hits)*cached + float64(u.Completion)*p.Output) / 1e6
}
