package lines

import (
	"encoding/json"
	"errors"
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
			if !readCalls(raw, calls) {
				*calls = eval.CallCounts{}
				err = json.Unmarshal(raw, calls)
			}
		case "judge":
			*judge, err = jsonscan.String(raw)
		case "error":
			*errMsg, err = jsonscan.String(raw)
		case "cached":
			switch string(raw) {
			case "true", "false":
				*cached = raw[0] == 't'
			default:
				err = json.Unmarshal(raw, cached)
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("not a journal record: %w", err)
	}
	return nil
}

// readCalls reads a calls object as appendCalls writes it: members spelled
// exactly, each a plain integer. It reports false on anything else, which
// encoding/json then reads (or refuses).
func readCalls(raw []byte, c *eval.CallCounts) bool {
	return jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
		var f *int64
		switch string(k) {
		case "requests":
			f = &c.Requests
		case "retries":
			f = &c.Retries
		case "repairs":
			f = &c.Repairs
		case "length_retries":
			f = &c.LengthRetries
		case "failed":
			f = &c.Failed
		}
		n, isInt := plainInt(v)
		if f == nil || !isInt {
			return errStop
		}
		*f = n
		return nil
	}) == nil
}

// errStop ends a walk of jsonscan.Fields early.
var errStop = errors.New("stop")

// plainInt reads b as a JSON integer without sign, fraction or exponent
// that fits an int64.
func plainInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 || b[0] == '0' && len(b) > 1 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// AppendAnswer appends the answers.jsonl record of an answer, byte for
// byte as encoding/json marshals pipeline.AnswerRecord (its fuzz test
// holds the two equal), without reflection.
func AppendAnswer(b []byte, key, item string, a *eval.Answer, latencyMS int64, errMsg, errKind string) []byte {
	b = member(append(b, '{'), "key", key, true)
	b = member(append(b, ','), "item", item, true)
	b = member(append(b, ','), "answer", a.Text, true)
	b = member(append(b, ','), "finish_reason", a.FinishReason, true)
	b = member(append(b, ','), "served_model", a.Model, true)
	b = appendCalls(appendUsage(append(b, `,"usage":`...), &a.Usage), &a.Calls)
	return appendTail(b, latencyMS, errMsg, errKind)
}

// AppendJudgment appends the judgments.jsonl record of a verdict, byte
// for byte as encoding/json marshals pipeline.JudgmentRecord.
func AppendJudgment(b []byte, key, item, judge string, v *eval.Verdict, latencyMS int64, errMsg, errKind string, cached bool) []byte {
	b = member(append(b, '{'), "key", key, true)
	b = member(append(b, ','), "item", item, true)
	b = member(append(b, ','), "judge", judge, true)
	b = appendList(append(b, `,"criteria":`...), v.Criteria, func(b []byte, c eval.CriterionVerdict) []byte {
		b = appendBool(append(member(append(b, '{'), "dim", c.Dim, true), `,"met":`...), c.Met)
		return append(optional(b, "explanation", c.Explanation, true), '}')
	})
	b = optional(b, "unscorable", v.Unscorable, true)
	b = member(append(b, ','), "raw", v.Raw, true)
	b = member(append(b, ','), "served_model", v.Model, true)
	b = optional(b, "system_fingerprint", v.Fingerprint, true)
	b = appendCalls(appendUsage(append(b, `,"usage":`...), &v.Usage), &v.Calls)
	if len(v.Order) > 0 {
		b = appendList(append(b, `,"order":`...), v.Order, func(b []byte, s string) []byte { return jsonscan.AppendString(b, s, true) })
	}
	b = appendTail(b, latencyMS, errMsg, errKind)
	if cached {
		b = append(b[:len(b)-1], `,"cached":true}`...)
	}
	return b
}

// appendCalls appends the calls member, its counts that may be 0 left
// out when they are.
func appendCalls(b []byte, c *eval.CallCounts) []byte {
	b = strconv.AppendInt(append(b, `,"calls":{"requests":`...), c.Requests, 10)
	b = appendInt(b, "retries", c.Retries)
	if c.Repairs != 0 {
		b = appendInt(b, "repairs", c.Repairs)
	}
	if c.LengthRetries != 0 {
		b = appendInt(b, "length_retries", c.LengthRetries)
	}
	if c.Failed != 0 {
		b = appendInt(b, "failed", c.Failed)
	}
	return append(b, '}')
}

// appendTail appends latency_ms, error and error_kind, and closes the
// object.
func appendTail(b []byte, latencyMS int64, errMsg, errKind string) []byte {
	b = appendInt(b, "latency_ms", latencyMS)
	return append(optional(optional(b, "error", errMsg, true), "error_kind", errKind, true), '}')
}
