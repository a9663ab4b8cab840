package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/pipeline"
)

// noteTo returns a function that prints a note on w.
func noteTo(w io.Writer) func(string) {
	return func(msg string) { fmt.Fprintln(w, "note: "+msg) }
}

// checkEndpoints asks every endpoint which models it serves before any
// item is sent: an endpoint that cannot be reached, or refuses the key,
// stops the run at once (exit 3); a model it does not list is a usage
// error (exit 2) naming what it serves; an endpoint without the listing
// gets a note, and the run goes on.
func (j *job) checkEndpoints(ctx context.Context, stderr io.Writer) error {
	type check struct {
		c     *llm.Client
		model string
		flag  string
		base  string
	}
	var checks []check
	if m, ok := j.model.(*pipeline.LLMModel); ok {
		for _, b := range m.Client.Bases() { // every replica
			checks = append(checks, check{m.Client, m.Model, "--model", b})
		}
	}
	// The judges' clients are the last of j.clients, in the judges' order.
	judgeClients := j.clients[len(j.clients)-len(j.manifest.Judges):]
	for i, info := range j.manifest.Judges {
		checks = append(checks, check{judgeClients[i], info.Model, "--judge-model", judgeClients[i].Bases()[0]})
	}
	for _, ch := range checks {
		ids, err := ch.c.ModelsAt(ctx, ch.base)
		var se *llm.StatusError
		switch {
		case errors.As(err, &se) && se.Fatal() && se.Status != http.StatusNotFound:
			return err
		case err != nil && errors.As(err, new(*llm.UnreachableError)):
			return err
		case err != nil:
			fmt.Fprintf(stderr, "note: could not check the model name: GET /models on %v; going on (--preflight=false skips the check)\n", err)
		case len(ids) == 0:
			fmt.Fprintf(stderr, "note: %s lists no models; going on without checking %s %q\n", llm.RedactURL(ch.base), ch.flag, ch.model)
		case !slices.Contains(ids, ch.model):
			if len(ids) > 20 {
				ids = append(ids[:20:20], fmt.Sprintf("and %d more", len(ids)-20))
			}
			return usageErrorf("%s %q: the endpoint %s does not serve it; it serves %s (or pass --preflight=false for a gateway that routes names it does not list)",
				ch.flag, ch.model, llm.RedactURL(ch.base), strings.Join(ids, ", "))
		}
	}
	return nil
}
