package lines

import (
	"math"
	"slices"
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
	b = appendStr(append(b, '{'), "id", r.ID)
	b = appendStr(append(b, ','), "question_type", r.QuestionType)
	b = appendStr(append(b, ','), "question", r.Question)
	b = appendStr(append(b, ','), "reference", r.Reference)
	b = appendStr(append(b, ','), "answer", r.Answer)
	b = appendStr(append(b, ','), "finish_reason", r.FinishReason)
	b = append(b, `,"criteria":`...)
	if r.Criteria == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range r.Criteria {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStr(append(b, '{'), "dim", c.Dim)
			b = strconv.AppendInt(append(b, `,"points":`...), c.Points, 10)
			b = appendBool(append(b, `,"met":`...), c.Met)
			if c.Explanation != "" {
				b = appendStr(append(b, ','), "explanation", c.Explanation)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"score":`...)
	if r.Score == nil {
		b = append(b, "null"...)
	} else {
		b = appendFloat(b, *r.Score)
	}
	b = appendBool(append(b, `,"all_met":`...), r.AllMet)
	b = appendStr(append(b, ','), "status", r.Status)
	b = appendOpt(b, "error", r.Error)
	b = appendOpt(b, "error_kind", r.ErrorKind)
	b = appendOpt(b, "unscorable", r.Unscorable)
	b = appendUsage(append(b, `,"usage":{"model":`...), &r.Usage.Model)
	b = appendUsage(append(b, `,"judge":`...), &r.Usage.Judge)
	b = strconv.AppendInt(append(b, `},"latency_ms":`...), r.LatencyMS, 10)
	b = appendInt(b, "judge_latency_ms", r.JudgeLatencyMS)
	if len(r.Judges) > 0 {
		b = append(b, `,"judges":[`...)
		for i, v := range r.Judges {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStr(append(b, '{'), "judge", v.Judge)
			b = append(b, `,"met":`...)
			if v.Met == nil {
				b = append(b, "null"...)
			} else {
				b = append(b, '[')
				for k, m := range v.Met {
					if k > 0 {
						b = append(b, ',')
					}
					b = appendBool(b, m)
				}
				b = append(b, ']')
			}
			b = append(appendOpt(b, "error", v.Error), '}')
		}
		b = append(b, ']')
	}
	b = appendOpt(b, "judge_served", r.JudgeServed)
	if len(r.Meta) > 0 {
		b = append(b, `,"meta":{`...)
		keys := make([]string, 0, len(r.Meta))
		for k := range r.Meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscan.AppendString(b, k, false)
			b = jsonscan.AppendString(append(b, ':'), r.Meta[k], false)
		}
		b = append(b, '}')
	}
	b = appendOpt(b, "cluster", r.Cluster)
	return append(b, "}\n"...), true
}

// appendStr appends "name":"s", with <, > and & as they are.
func appendStr(b []byte, name, s string) []byte {
	b = append(append(append(b, '"'), name...), `":`...)
	return jsonscan.AppendString(b, s, false)
}

// appendOpt appends ,"name":"s" unless s is empty (omitempty).
func appendOpt(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendStr(append(b, ','), name, s)
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
