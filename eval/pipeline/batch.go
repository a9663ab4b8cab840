package pipeline

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
)

// What a batch file asks for.
const (
	BatchAnswers   = "answers"
	BatchJudgments = "judgments"
)

// A BatchRequest is one line of the OpenAI Batch input format, which
// vllm run-batch reads: the body is exactly what psveval would send.
type BatchRequest struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// A BatchResponse is one line of a batch output file (OpenAI's Batch
// API, vllm run-batch).
type BatchResponse struct {
	ID       string `json:"id"`
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error json.RawMessage `json:"error"`
}

// A bodyer writes the body a client would send: *llm.Client.
type bodyer interface {
	Body(req openai.ChatCompletionRequest) ([]byte, error)
}

// A batchJudge is a judge that can judge offline: judges.LLM.
type batchJudge interface {
	Requests(it eval.Item, answer string) ([]openai.ChatCompletionRequest, error)
	Verdict(it eval.Item, replies []openai.ChatCompletionResponse, billed []eval.Usage) (eval.Verdict, error)
}

// A custom_id names a request of a batch: what it asks, for which item,
// and the key of the record it makes, so that an import checks the
// settings still match: answer|ITEM|KEY or judgment|JUDGE|ITEM|PART|KEY
// ("|", since model names and item ids hold "/").
func answerID(it *eval.Item, key string) string { return "answer|" + it.ID + "|" + key[:16] }
func judgmentID(judge string, it *eval.Item, part int, key string) string {
	return fmt.Sprintf("judgment|%s|%s|%d|%s", judge, it.ID, part, key[:16])
}

// open takes the run directory's lock, checks or creates its manifest,
// and opens its journals, as Run does before its first request.
func (j *Job) open() (answers, judgments *store.Journal, closeAll func() error, err error) {
	lock, err := rundir.LockDir(j.Dir, cmp.Or(j.Manifest.ResumeCommand(), "psveval run"))
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(err error) (*store.Journal, *store.Journal, func() error, error) {
		lock.Release()
		return nil, nil, nil, err
	}
	fp, err := dataset.FingerprintOf(j.Dataset)
	if err != nil {
		return fail(err)
	}
	j.Manifest.Dataset = rundir.NewDatasetInfo(j.Dataset, fp)
	if j.Manifest.Tool.Version == "" {
		j.Manifest.Tool = rundir.Tool()
	}
	if _, err := j.prepare(); err != nil {
		return fail(err)
	}
	answers, judgments, err = j.openJournals()
	if err != nil {
		return fail(err)
	}
	return answers, judgments, func() error {
		defer lock.Release()
		return errors.Join(answers.Close(), judgments.Close())
	}, nil
}

// Export writes, in the OpenAI Batch input format, the requests the run
// still needs: BatchAnswers, the model's, for every item without an
// answer; BatchJudgments, the judges', for every answered item some
// judge has not judged (a run's judgments need its answers first). It
// returns the number of requests written.
func (j *Job) Export(what string, w io.Writer) (n int, err error) {
	model, ok := j.Model.(*LLMModel)
	if what == BatchAnswers && !ok {
		return 0, errors.New("batch export: the model is not an OpenAI-compatible endpoint")
	}
	answers, judgments, closeAll, err := j.open()
	if err != nil {
		return 0, err
	}
	defer func() { err = cmp.Or(err, closeAll()) }()
	bw := bufio.NewWriter(w)
	emit := func(id string, c bodyer, req openai.ChatCompletionRequest) error {
		body, err := c.Body(req)
		if err != nil {
			return err
		}
		line, err := json.Marshal(BatchRequest{CustomID: id, Method: "POST", URL: llm.ChatPath, Body: body})
		if err != nil {
			return err
		}
		n++
		_, err = bw.Write(append(line, '\n'))
		return err
	}
	modelID := j.Manifest.Model.ModelID()
	for it, err := range j.Dataset.All() {
		if err != nil {
			return n, err
		}
		key := AnswerKey(modelID, &it)
		var rec AnswerRecord
		has, err := answers.Get(key, &rec)
		if err != nil {
			return n, err
		}
		switch {
		case what == BatchAnswers && !has:
			msgs, err := model.Messages(it)
			if err != nil {
				return n, fmt.Errorf("item %q: %w", it.ID, err)
			}
			if err := emit(answerID(&it, key), model.Client, openai.ChatCompletionRequest{Model: model.Model, Messages: msgs}); err != nil {
				return n, err
			}
		case what == BatchJudgments && has && rec.Error == "":
			for _, js := range j.Judges {
				jkey := JudgmentKey(js.Fingerprint, &it, rec.Text)
				if judgments.Has(jkey) {
					continue
				}
				bj, ok := js.Judge.(batchJudge)
				c := j.judgeClient(js.Name)
				if !ok || c == nil {
					return n, fmt.Errorf("batch export: judge %s cannot judge offline", js.Name)
				}
				reqs, err := bj.Requests(it, rec.Text)
				if err != nil {
					return n, err
				}
				for k, req := range reqs {
					if err := emit(judgmentID(js.Name, &it, k, jkey), c, req); err != nil {
						return n, err
					}
				}
			}
		}
	}
	return n, bw.Flush()
}

// judgeClient is the client of the judge named name.
func (j *Job) judgeClient(name string) bodyer {
	for i, s := range j.Judges {
		if s.Name == name {
			// Endpoints list the model first, then the judges in order.
			k := len(j.Endpoints) - len(j.Judges) + i
			if k >= 0 && k < len(j.Endpoints) && j.Endpoints[k].Client != nil {
				return j.Endpoints[k].Client
			}
		}
	}
	return nil
}

// An ImportReport says what a batch import journaled and left.
type ImportReport struct {
	Answers, Judgments int
	// Left are the requests whose reply was an error, blank, cut off or
	// unparsable, by custom_id with why: the run asks them online.
	Left []string
}

// A BatchError refuses a batch output file, naming each bad line.
type BatchError struct {
	File     string
	Problems []string
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("%s: %s, nothing imported:\n  %s", e.File, eval.Nouns(len(e.Problems), "bad line"), strings.Join(e.Problems, "\n  "))
}

// Import reads a batch output file whose requests [Job.Export] wrote and
// journals the answers and judgments it holds, as the run would have
// online, so that running the job again asks none of them. Lines with an
// unknown, repeated or stale custom_id (the settings or the answer
// changed since the export) refuse the whole file with a *BatchError
// naming each; replies that an online run would ask again (errors, blank
// answers, cut-off or unparsable verdicts) are left to the run, listed
// in the report.
func (j *Job) Import(name string, r io.Reader) (rep *ImportReport, err error) {
	answers, judgments, closeAll, err := j.open()
	if err != nil {
		return nil, err
	}
	defer func() { err = cmp.Or(err, closeAll()) }()
	items := map[string]eval.Item{}
	for it, err := range j.Dataset.All() {
		if err != nil {
			return nil, err
		}
		items[it.ID] = it.WithoutData()
	}
	type reply struct {
		resp   openai.ChatCompletionResponse
		billed eval.Usage
		err    string
	}
	replies := map[string]reply{}
	var order []string
	be := &BatchError{File: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), eval.MaxLineBytes)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var br BatchResponse
		if err := json.Unmarshal(line, &br); err != nil || br.CustomID == "" {
			be.Problems = append(be.Problems, fmt.Sprintf("line %d: not a batch output line with a custom_id", n))
			continue
		}
		if _, dup := replies[br.CustomID]; dup {
			be.Problems = append(be.Problems, fmt.Sprintf("line %d: custom_id %q again", n, br.CustomID))
			continue
		}
		if why := j.checkID(br.CustomID, items, answers, judgments); why != "" {
			be.Problems = append(be.Problems, fmt.Sprintf("line %d: custom_id %q: %s", n, br.CustomID, why))
			continue
		}
		rp := reply{}
		switch {
		case br.Response == nil || br.Response.StatusCode != 200:
			rp.err = "the batch reported an error: " + string(br.Error)
			if br.Response != nil {
				rp.err = fmt.Sprintf("HTTP %d", br.Response.StatusCode)
			}
		default:
			resp, t, err := llm.DecodeCompletion(br.Response.Body)
			rp.resp, rp.billed = resp, eval.Usage(t)
			if err != nil {
				rp.err = err.Error()
			}
		}
		replies[br.CustomID] = rp
		order = append(order, br.CustomID)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(be.Problems) > 0 {
		return nil, be
	}
	rep = &ImportReport{}
	modelID := j.Manifest.Model.ModelID()
	judged := map[string]bool{}
	for _, id := range order {
		rp := replies[id]
		parts := strings.Split(id, "|")
		if parts[0] == "answer" {
			it := items[parts[1]]
			key := AnswerKey(modelID, &it)
			if rp.err != "" {
				rep.Left = append(rep.Left, id+": "+rp.err)
				continue
			}
			c := rp.resp.Choices[0]
			if strings.TrimSpace(c.Message.Content) == "" {
				rep.Left = append(rep.Left, id+": a blank answer")
				continue
			}
			a := eval.Answer{Text: c.Message.Content, FinishReason: string(c.FinishReason), Model: rp.resp.Model, Usage: rp.billed}
			a.Calls.Request(1)
			if err := answers.Append(key, false, &AnswerRecord{Key: key, Item: it.ID, Answer: a}); err != nil {
				return rep, err
			}
			rep.Answers++
			continue
		}
		// A judgment: once, when the first of its parts comes.
		judge, item := parts[1], parts[2]
		if judged[judge+"|"+item] {
			continue
		}
		judged[judge+"|"+item] = true
		it := items[item]
		js, bj := j.batchJudge(judge)
		var ans AnswerRecord
		if _, err := answers.Get(AnswerKey(modelID, &it), &ans); err != nil {
			return rep, err
		}
		jkey := JudgmentKey(js.Fingerprint, &it, ans.Text)
		reqs, err := bj.Requests(it, ans.Text)
		if err != nil {
			return rep, err
		}
		var resps []openai.ChatCompletionResponse
		var billed []eval.Usage
		why := ""
		for k := range reqs {
			p, ok := replies[judgmentID(judge, &it, k, jkey)]
			switch {
			case !ok:
				why = fmt.Sprintf("part %d of %d is not in the file", k+1, len(reqs))
			case p.err != "":
				why = p.err
			}
			if why != "" {
				break
			}
			resps, billed = append(resps, p.resp), append(billed, p.billed)
		}
		if why == "" {
			v, err := bj.Verdict(it, resps, billed)
			if err != nil {
				why = err.Error()
			} else {
				rec := JudgmentRecord{Key: jkey, Item: it.ID, Judge: js.Name, Verdict: v}
				if err := judgments.Append(jkey, false, &rec); err != nil {
					return rep, err
				}
				rep.Judgments++
				continue
			}
		}
		rep.Left = append(rep.Left, fmt.Sprintf("judgment|%s|%s: %s", judge, item, why))
	}
	return rep, nil
}

// batchJudge is the judge named name and its offline side.
func (j *Job) batchJudge(name string) (eval.JudgeSpec, batchJudge) {
	for _, s := range j.Judges {
		if s.Name == name {
			bj, _ := s.Judge.(batchJudge)
			return s, bj
		}
	}
	return eval.JudgeSpec{}, nil
}

// checkID says what is wrong with a batch line's custom_id against the
// run now, or "" when it names a request the run still needs.
func (j *Job) checkID(id string, items map[string]eval.Item, answers, judgments *store.Journal) string {
	parts := strings.Split(id, "|")
	switch {
	case len(parts) == 3 && parts[0] == "answer":
		it, ok := items[parts[1]]
		if !ok {
			return "no such item in the dataset"
		}
		key := AnswerKey(j.Manifest.Model.ModelID(), &it)
		if !strings.HasPrefix(key, parts[2]) {
			return "the model's settings changed since the export (its answer key differs): export again"
		}
		if answers.Has(key) {
			return "already answered in the run: export again, so a request is never paid twice"
		}
	case len(parts) == 5 && parts[0] == "judgment":
		it, ok := items[parts[2]]
		if !ok {
			return "no such item in the dataset"
		}
		js, bj := j.batchJudge(parts[1])
		if bj == nil {
			return fmt.Sprintf("no judge %q in the run", parts[1])
		}
		var ans AnswerRecord
		if has, err := answers.Get(AnswerKey(j.Manifest.Model.ModelID(), &it), &ans); err != nil || !has {
			return "the item has no answer in the run"
		}
		key := JudgmentKey(js.Fingerprint, &it, ans.Text)
		if !strings.HasPrefix(key, parts[4]) {
			return "the judge's settings or the answer changed since the export: export again"
		}
		if judgments.Has(key) {
			return "already judged in the run: export again, so a request is never paid twice"
		}
		reqs, err := bj.Requests(it, ans.Text)
		if k, perr := strconv.Atoi(parts[3]); perr != nil || err != nil || k < 0 || k >= len(reqs) {
			return "no such part of the judgment"
		}
	default:
		return "not a psveval batch id (answer|ITEM|KEY or judgment|JUDGE|ITEM|PART|KEY)"
	}
	return ""
}
