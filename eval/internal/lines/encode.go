package lines

import (
	"math"
	"strconv"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
)

// AppendResult appends r as one results.jsonl line, newline included,
// byte for byte as a json.Encoder with SetEscapeHTML(false) writes it,
// without reflection. It reports false, having appended nothing, for a
// score encoding/json refuses (NaN or infinite).
func AppendResult(b []byte, r *eval.Result) ([]byte, bool) {
	if r.Score != nil && (math.IsNaN(*r.Score) || math.IsInf(*r.Score, 0)) {
		return b, false
	}
	b = member(append(b, '{'), "id", r.ID, false)
	b = member(append(b, ','), "question_type", r.QuestionType, false)
	b = member(append(b, ','), "question", r.Question, false)
	b = member(append(b, ','), "reference", r.Reference, false)
	b = member(append(b, ','), "answer", r.Answer, false)
	b = member(append(b, ','), "finish_reason", r.FinishReason, false)
	b = appendList(append(b, `,"criteria":`...), r.Criteria, func(b []byte, c eval.ResultCriterion) []byte {
		b = member(append(b, '{'), "dim", c.Dim, false)
		b = appendBool(append(strconv.AppendInt(append(b, `,"points":`...), c.Points, 10), `,"met":`...), c.Met)
		return append(optional(b, "explanation", c.Explanation, false), '}')
	})
	b = append(b, `,"score":`...)
	if r.Score == nil {
		b = append(b, "null"...)
	} else {
		b = appendFloat(b, *r.Score)
	}
	b = appendBool(append(b, `,"all_met":`...), r.AllMet)
	b = member(append(b, ','), "status", r.Status, false)
	b = optional(b, "error", r.Error, false)
	b = optional(b, "error_kind", r.ErrorKind, false)
	b = optional(b, "unscorable", r.Unscorable, false)
	b = appendUsage(append(b, `,"usage":{"model":`...), &r.Usage.Model)
	b = appendUsage(append(b, `,"judge":`...), &r.Usage.Judge)
	b = strconv.AppendInt(append(b, `},"latency_ms":`...), r.LatencyMS, 10)
	b = appendInt(b, "judge_latency_ms", r.JudgeLatencyMS)
	if len(r.Judges) > 0 {
		b = appendList(append(b, `,"judges":`...), r.Judges, func(b []byte, v eval.JudgeVote) []byte {
			b = appendList(append(member(append(b, '{'), "judge", v.Judge, false), `,"met":`...), v.Met, appendBool)
			return append(optional(b, "error", v.Error, false), '}')
		})
	}
	b = optional(b, "judge_served", r.JudgeServed, false)
	if len(r.Meta) > 0 {
		b = appendStringMap(append(b, `,"meta":`...), r.Meta, false)
	}
	b = optional(b, "cluster", r.Cluster, false)
	return append(b, "}\n"...), true
}

// member appends "name":"s", with s escaped as encoding/json does: with
// html, <, > and & as \u003c, \u003e and \u0026 (json.Marshal), else as
// they are (an Encoder with SetEscapeHTML(false)).
func member(b []byte, name, s string, html bool) []byte {
	b = append(append(append(b, '"'), name...), `":`...)
	return jsonscan.AppendString(b, s, html)
}

// optional appends ,"name":"s" unless s is empty (omitempty).
func optional(b []byte, name, s string, html bool) []byte {
	if s == "" {
		return b
	}
	return member(append(b, ','), name, s, html)
}

// appendInt appends ,"name":n.
func appendInt(b []byte, name string, n int64) []byte {
	b = append(append(append(b, `,"`...), name...), `":`...)
	return strconv.AppendInt(b, n, 10)
}

// appendList appends xs as a JSON array, each element by each; a nil
// slice is null, as encoding/json writes it.
func appendList[T any](b []byte, xs []T, each func([]byte, T) []byte) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = each(b, x)
	}
	return append(b, ']')
}

func appendBool(b []byte, v *bool) []byte {
	switch {
	case v == nil:
		return append(b, "null"...)
	case *v:
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendUsage appends a usage object.
func appendUsage(b []byte, u *eval.Usage) []byte {
	b = strconv.AppendInt(append(b, `{"prompt_tokens":`...), u.Prompt, 10)
	b = appendInt(b, "completion_tokens", u.Completion)
	b = appendInt(b, "cached_prompt_tokens", u.Cached)
	b = appendInt(b, "reasoning_tokens", u.Reasoning)
	return append(b, '}')
}

// appendFloat appends f as encoding/json does: the shortest form, in
// exponent form below 1e-6 and from 1e21, with e-7 rather than e-07.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
