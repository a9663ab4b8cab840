package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/jsonscan"
	"github.com/psveval/psveval/judges"
)

// leanRun is the floor the efficiency and CPU figures are held against: a
// client that asks the model and the judge for every item, pipelined as
// psveval run is (64 model requests and 32 judge requests in flight, an
// item judged as soon as it is answered), and does nothing else. It
// writes its request bodies by hand, reads only the answer out of each
// completion, and keeps no journal, results or statistics: no resume, no
// retries, no checks. The judge prompt is psveval's own, so the fake
// judge reads it as it reads psveval's.
func leanRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("lean-run", flag.ContinueOnError)
	var cf childFlags
	cf.register(fs)
	conc := fs.Int("concurrency", 64, "model requests in flight")
	judgeConc := fs.Int("judge-concurrency", 32, "judge requests in flight")
	ds, err := cf.parse(fs, args)
	if err != nil {
		return err
	}
	j, err := judges.New(judges.Config{Model: cf.judgeModel})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc + *judgeConc}}
	post := func(ctx context.Context, body []byte) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, cf.url+"/chat/completions", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
		}
		return b, err
	}
	type answered struct {
		it     eval.Item
		answer string
	}
	items := make(chan eval.Item, *conc)
	toJudge := make(chan answered, *judgeConc)
	var firstErr error
	var once sync.Once
	fail := func(err error) { once.Do(func() { firstErr = err }) }
	var answering, judging sync.WaitGroup
	for range *conc {
		answering.Go(func() {
			for it := range items {
				body := fmt.Appendf(nil, `{"model":%q,"messages":[{"role":"user","content":%s}],"temperature":0,"top_p":1,"seed":0,"max_tokens":1024,"top_k":-1,"repetition_penalty":1}`,
					cf.model, jsonscan.AppendString(nil, it.Question, false))
				resp, err := post(ctx, body)
				if err != nil {
					fail(err)
					continue
				}
				toJudge <- answered{it, content(resp)}
			}
		})
	}
	for range *judgeConc {
		judging.Go(func() {
			for a := range toJudge {
				ps, err := j.Prompts(a.it, a.answer)
				if err != nil {
					fail(err)
					continue
				}
				body := fmt.Appendf(nil, `{"model":%q,"messages":[{"role":"system","content":%s},{"role":"user","content":%s}],"temperature":0,"top_p":1,"max_tokens":2048,"response_format":{"type":"json_object"}}`,
					cf.judgeModel, jsonscan.AppendString(nil, ps[0][0], false), jsonscan.AppendString(nil, ps[0][1], false))
				resp, err := post(ctx, body)
				if err != nil {
					fail(err)
					continue
				}
				if !strings.Contains(content(resp), `"criteria"`) {
					fail(errors.New("the judge's reply holds no verdict"))
				}
			}
		})
	}
	n := 0
	for it, err := range ds.All() {
		if err != nil {
			return err
		}
		items <- it
		n++
	}
	close(items)
	answering.Wait()
	close(toJudge)
	judging.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("%d items answered and judged\n", n)
	return nil
}

// content returns choices[0].message.content of a completion.
func content(resp []byte) string {
	var out string
	_ = jsonscan.Fields(resp, func(k []byte) bool { return string(k) == "choices" }, func(_, raw []byte) error {
		return jsonscan.Array(raw, func(choice []byte) error {
			return jsonscan.Fields(choice, func(k []byte) bool { return string(k) == "message" }, func(_, msg []byte) error {
				return jsonscan.Fields(msg, func(k []byte) bool { return string(k) == "content" }, func(_, c []byte) error {
					out, _ = jsonscan.String(c)
					return nil
				})
			})
		})
	})
	return out
}
