// Package lines reads and writes psveval's own JSON lines on their hot
// paths: results.jsonl lines, read for reports and written by runs, and
// journal records, written by runs and read for their call counts. The
// readers walk a line with eval/jsonscan and skip the long texts they do
// not need; the writers append without reflection. Each is fuzzed
// against encoding/json.
package lines

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
)

// A ResultDecoder reads results.jsonl lines for reports: the members
// reports use, skipping the long texts. It is not safe for concurrent use.
type ResultDecoder struct {
	// Meta reads the meta object, needed only to group by a meta field.
	Meta bool
	// intern shares the strings that repeat on every line.
	intern map[string]string
	// seen holds the meta keys met, when meta is read.
	seen map[string]bool
}

// NewResultDecoder returns a decoder that reads the meta object when meta
// is set.
func NewResultDecoder(meta bool) *ResultDecoder {
	return &ResultDecoder{Meta: meta, intern: map[string]string{}, seen: map[string]bool{}}
}

// MetaKeys returns the meta keys met so far, when Meta is set.
func (d *ResultDecoder) MetaKeys() map[string]bool { return d.seen }

func (d *ResultDecoder) str(raw []byte) (string, error) {
	if s, ok := d.intern[string(raw)]; ok { // no allocation for the lookup
		return s, nil
	}
	s, err := jsonscan.String(raw)
	if err == nil && len(d.intern) < 1024 {
		d.intern[string(raw)] = s
	}
	return s, err
}

// Decode reads into r the members of a results.jsonl line that reports use,
// skipping the long texts without decoding them. The whole line is
// validated first, skipped members included: a line encoding/json would
// refuse is refused.
func (d *ResultDecoder) Decode(r *eval.Result, line []byte) error {
	if !jsonscan.Valid(line) {
		return errors.New("not valid JSON")
	}
	return jsonscan.Fields(line, func(key []byte) bool {
		switch string(key) {
		case "question", "reference", "answer", "error", "explanation", "latency_ms", "judge_latency_ms":
			return false
		case "meta":
			return d.Meta
		}
		return true
	}, func(key, raw []byte) error {
		var err error
		switch string(key) {
		case "id":
			r.ID, err = jsonscan.String(raw)
		case "question_type":
			r.QuestionType, err = d.str(raw)
		case "finish_reason":
			r.FinishReason, err = d.str(raw)
		case "status":
			r.Status, err = d.str(raw)
		case "unscorable":
			r.Unscorable, err = d.str(raw)
		case "judge_served":
			r.JudgeServed, err = d.str(raw)
		case "cluster":
			r.Cluster, err = jsonscan.String(raw)
		case "score":
			r.Score, err = rawFloat(raw)
		case "all_met":
			r.AllMet, err = rawBool(raw)
		case "meta":
			err = jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
				s, err := jsonscan.String(v)
				if err != nil || s == "" {
					return err
				}
				if r.Meta == nil {
					r.Meta = map[string]string{}
				}
				if d.seen != nil && !d.seen[string(k)] {
					d.seen[string(k)] = true
				}
				r.Meta[string(k)] = s
				return nil
			})
		case "usage":
			err = jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
				u := &r.Usage.Model
				if string(k) == "judge" {
					u = &r.Usage.Judge
				}
				return decodeUsage(u, v)
			})
		case "judges":
			err = json.Unmarshal(raw, &r.Judges)
		case "criteria":
			err = decodeCriteria(r, d, raw)
		}
		return err
	})
}

func decodeUsage(u *eval.Usage, raw []byte) error {
	return jsonscan.Fields(raw, func([]byte) bool { return true }, func(k, v []byte) error {
		n, err := strconv.ParseInt(string(v), 10, 64)
		switch string(k) {
		case "prompt_tokens":
			u.Prompt = n
		case "completion_tokens":
			u.Completion = n
		case "cached_prompt_tokens":
			u.Cached = n
		case "reasoning_tokens":
			u.Reasoning = n
		default:
			return nil
		}
		return err
	})
}

func rawFloat(raw []byte) (*float64, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, jsonscan.ErrSyntax
	}
	return &f, nil
}

func rawBool(raw []byte) (*bool, error) {
	switch string(raw) {
	case "null":
		return nil, nil
	case "true", "false":
		b := raw[0] == 't'
		return &b, nil
	}
	return nil, jsonscan.ErrSyntax
}

// decodeCriteria reads the criteria array, skipping explanations.
func decodeCriteria(r *eval.Result, d *ResultDecoder, raw []byte) error {
	i := jsonscan.SkipSpace(raw, 0)
	if string(raw[i:]) == "null" {
		return nil
	}
	if i >= len(raw) || raw[i] != '[' {
		return jsonscan.ErrSyntax
	}
	i = jsonscan.SkipSpace(raw, i+1)
	r.Criteria = []eval.ResultCriterion{}
	for i < len(raw) && raw[i] != ']' {
		end, err := jsonscan.SkipValue(raw, i)
		if err != nil {
			return err
		}
		var c eval.ResultCriterion
		err = jsonscan.Fields(raw[i:end], func(key []byte) bool { return string(key) != "explanation" }, func(key, v []byte) error {
			var err error
			switch string(key) {
			case "dim":
				c.Dim, err = d.str(v)
			case "points":
				c.Points, err = strconv.ParseInt(string(v), 10, 64)
			case "met":
				c.Met, err = rawBool(v)
			}
			return err
		})
		if err != nil {
			return err
		}
		r.Criteria = append(r.Criteria, c)
		i = jsonscan.SkipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = jsonscan.SkipSpace(raw, i+1)
		}
	}
	return nil
}
