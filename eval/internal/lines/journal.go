package lines

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
)

// ReadRecord reads the members of a journal record that the run's call
// counts add up,
// walking past the rest (answers and explanations) without decoding it.
// The journal checked every line when it was opened or appended.
func ReadRecord(b []byte, calls *eval.CallCounts, judge, errMsg *string, cached *bool) error {
	err := jsonscan.Fields(b, func(k []byte) bool {
		switch string(k) {
		case "calls", "judge", "error", "cached":
			return true
		}
		return false
	}, func(k, raw []byte) error {
		var err error
		switch string(k) {
		case "calls":
			*calls = eval.CallCounts{}
			err = json.Unmarshal(raw, calls)
		case "judge":
			*judge, err = jsonscan.String(raw)
		case "error":
			*errMsg, err = jsonscan.String(raw)
		case "cached":
			err = json.Unmarshal(raw, cached)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("not a journal record: %w", err)
	}
	return nil
}

// AppendAnswer appends the answers.jsonl record of an answer, byte for
// byte as encoding/json marshals pipeline.AnswerRecord (its fuzz test
// holds the two equal), without reflection.
func AppendAnswer(b []byte, key, item string, a *eval.Answer, latencyMS int64, errMsg, errKind string) []byte {
	b = appendKey(append(b, '{'), "key", key)
	b = appendKey(append(b, ','), "item", item)
	b = appendKey(append(b, ','), "answer", a.Text)
	b = appendKey(append(b, ','), "finish_reason", a.FinishReason)
	b = appendKey(append(b, ','), "served_model", a.Model)
	b = appendUsageCalls(b, &a.Usage, &a.Calls)
	return appendTail(b, latencyMS, errMsg, errKind)
}

// AppendJudgment appends the judgments.jsonl record of a verdict, byte
// for byte as encoding/json marshals pipeline.JudgmentRecord.
func AppendJudgment(b []byte, key, item, judge string, v *eval.Verdict, latencyMS int64, errMsg, errKind string, cached bool) []byte {
	b = appendKey(append(b, '{'), "key", key)
	b = appendKey(append(b, ','), "item", item)
	b = appendKey(append(b, ','), "judge", judge)
	b = append(b, `,"criteria":`...)
	if v.Criteria == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range v.Criteria {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendKey(append(b, '{'), "dim", c.Dim)
			switch {
			case c.Met == nil:
				b = append(b, `,"met":null`...)
			case *c.Met:
				b = append(b, `,"met":true`...)
			default:
				b = append(b, `,"met":false`...)
			}
			if c.Explanation != "" {
				b = appendKey(append(b, ','), "explanation", c.Explanation)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if v.Unscorable != "" {
		b = appendKey(append(b, ','), "unscorable", v.Unscorable)
	}
	b = appendKey(append(b, ','), "raw", v.Raw)
	b = appendKey(append(b, ','), "served_model", v.Model)
	if v.Fingerprint != "" {
		b = appendKey(append(b, ','), "system_fingerprint", v.Fingerprint)
	}
	b = appendUsageCalls(b, &v.Usage, &v.Calls)
	if len(v.Order) > 0 {
		b = append(b, `,"order":[`...)
		for i, s := range v.Order {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscan.AppendString(b, s, true)
		}
		b = append(b, ']')
	}
	b = appendTail(b, latencyMS, errMsg, errKind)
	if cached {
		b = append(b[:len(b)-1], `,"cached":true}`...)
	}
	return b
}

// appendKey appends "name":"s", with s escaped as json.Marshal does.
func appendKey(b []byte, name, s string) []byte {
	b = append(append(append(b, '"'), name...), `":`...)
	return jsonscan.AppendString(b, s, true)
}

func appendInt(b []byte, name string, n int64) []byte {
	b = append(append(append(b, `,"`...), name...), `":`...)
	return strconv.AppendInt(b, n, 10)
}

// appendUsageCalls appends the usage and calls members.
func appendUsageCalls(b []byte, u *eval.Usage, c *eval.CallCounts) []byte {
	b = strconv.AppendInt(append(b, `,"usage":{"prompt_tokens":`...), u.Prompt, 10)
	b = appendInt(b, "completion_tokens", u.Completion)
	b = appendInt(b, "cached_prompt_tokens", u.Cached)
	b = appendInt(b, "reasoning_tokens", u.Reasoning)
	b = strconv.AppendInt(append(b, `},"calls":{"requests":`...), c.Requests, 10)
	b = appendInt(b, "retries", c.Retries)
	for _, f := range []struct {
		name string
		n    int64
	}{{"repairs", c.Repairs}, {"length_retries", c.LengthRetries}, {"failed", c.Failed}} {
		if f.n != 0 {
			b = appendInt(b, f.name, f.n)
		}
	}
	return append(b, '}')
}

// appendTail appends latency_ms, error and error_kind, and closes the
// object.
func appendTail(b []byte, latencyMS int64, errMsg, errKind string) []byte {
	b = appendInt(b, "latency_ms", latencyMS)
	if errMsg != "" {
		b = appendKey(append(b, ','), "error", errMsg)
	}
	if errKind != "" {
		b = appendKey(append(b, ','), "error_kind", errKind)
	}
	return append(b, '}')
}
