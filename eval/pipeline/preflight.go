package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval/dataset"
	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/stats"
)

// An Endpoint is a client a job sends to, with the model it asks for and
// the flag that named the model (for messages): the job checks it before
// the first item (Preflight) and counts its replicas' traffic in the
// summary.
type Endpoint struct {
	Client *llm.Client
	Model  string
	// Flag names the setting that gave the model: "--model",
	// "--judge-model".
	Flag string
}

// A NotServedError reports an endpoint that does not list the model asked
// of it: a mistake in the settings.
type NotServedError struct {
	Flag, Model, URL string
	Served           []string
}

func (e *NotServedError) Error() string {
	ids := e.Served
	if len(ids) > 20 {
		ids = append(ids[:20:20], fmt.Sprintf("and %d more", len(ids)-20))
	}
	return fmt.Sprintf("%s %q: the endpoint %s does not serve it; it serves %s (or pass --preflight=false for a gateway that routes names it does not list)",
		e.Flag, e.Model, e.URL, strings.Join(ids, ", "))
}

// preflight asks every endpoint (every replica) which models it serves
// before any item is sent: an endpoint that cannot be reached, or refuses
// the key, stops the run at once; a model it does not list is a
// *NotServedError; an endpoint without the listing gets a note, and the
// run goes on.
func (j *Job) preflight(ctx context.Context) error {
	for _, ep := range j.Endpoints {
		bases := ep.Client.Bases()
		if ep.Flag != "--model" {
			bases = bases[:1]
		}
		var down []string
		for _, base := range bases {
			ids, err := ep.Client.ModelsAt(ctx, base)
			se, isStatus := errors.AsType[statusError](err)
			if _, dead := errors.AsType[*llm.UnreachableError](err); dead && len(bases) > 1 {
				// One replica down among several: the others serve, and
				// this one is probed back as one that dies mid-run is.
				down = append(down, base)
				ep.Client.MarkDown(base)
				j.note("warning: replica %s of %s does not answer (%v); going on with the others, and trying it again later", llm.RedactURL(base), ep.Flag, err)
				continue
			}
			switch {
			case fatal(err) && !(isStatus && se.HTTPStatus() == http.StatusNotFound):
				// A 404 says the endpoint lists no models, not that it is dead.
				return err
			case err != nil:
				j.note("note: could not check the model name: GET /models on %v; going on (--preflight=false skips the check)", err)
			case len(ids) == 0:
				j.note("note: %s lists no models; going on without checking %s %q", llm.RedactURL(base), ep.Flag, ep.Model)
			case !slices.Contains(ids, ep.Model) && !j.AllowUnlisted:
				return &NotServedError{Flag: ep.Flag, Model: ep.Model, URL: llm.RedactURL(base), Served: ids}
			}
		}
		if len(bases) > 1 && len(down) == len(bases) {
			return &llm.UnreachableError{Name: ep.Client.Name(), Endpoint: ep.Client.Endpoint(), Err: fmt.Errorf("none of its %d replicas answers", len(bases))}
		}
	}
	return nil
}

// traced is a Limiter that records its limit over time (an *llm.AIMD).
type traced interface{ Trace() []llm.LimitPoint }

// addTraffic records the endpoints' replica counts and the adaptive
// limits' traces in the run information.
func (j *Job) addTraffic(ri *stats.RunInfo) {
	for name, l := range map[string]Limiter{"model": j.ModelLimit, "judge": j.JudgeLimit} {
		t, ok := l.(traced)
		if !ok {
			continue
		}
		if ri.LimitTrace == nil {
			ri.LimitTrace = map[string][]stats.LimitPoint{}
		}
		for _, p := range t.Trace() {
			ri.LimitTrace[name] = append(ri.LimitTrace[name], stats.LimitPoint{T: p.T, Limit: p.Limit})
		}
	}
	seen := map[*llm.Client]bool{}
	for _, ep := range j.Endpoints {
		if seen[ep.Client] || ep.Client == nil {
			continue
		}
		seen[ep.Client] = true
		if n := ep.Client.Stats().Timeouts; n > 0 {
			kind := "model"
			if ep.Flag == "--judge-model" {
				kind = "judge"
			}
			if ri.Timeouts == nil {
				ri.Timeouts = map[string]int64{}
			}
			ri.Timeouts[kind] += n
		}
		for _, r := range ep.Client.Replicas() {
			ri.Replicas = append(ri.Replicas, stats.ReplicaCount{Endpoint: ep.Client.Name(), URL: r.URL, Requests: r.Requests, Failures: r.Failures, Served: r.Served})
		}
	}
}

// A NoVisionError reports a model endpoint that serves the model without
// vision while items carry images: llama-server without --mmproj.
type NoVisionError struct {
	URL, Model   string
	Capabilities []string
	Items, Of    int
}

func (e *NoVisionError) Error() string {
	return fmt.Sprintf("the model endpoint %s serves %q without vision (GET /models lists its capabilities as [%s]; llama-server needs --mmproj, the model's vision projector), and %d of the %d items have images",
		e.URL, e.Model, strings.Join(e.Capabilities, ", "), e.Items, e.Of)
}

// Fatal is true: no request can succeed.
func (e *NoVisionError) Fatal() bool { return true }

// checkVision refuses, before any request, a model endpoint whose model
// list says it cannot take images when items have them.
func (j *Job) checkVision(fp dataset.Fingerprint) error {
	if fp.WithImages == 0 {
		return nil
	}
	for _, ep := range j.Endpoints {
		if ep.Flag != "--model" || ep.Client == nil {
			continue
		}
		caps, ok := ep.Client.Capabilities(ep.Model)
		if ok && !slices.Contains(caps, "multimodal") && !slices.Contains(caps, "vision") {
			return &NoVisionError{URL: ep.Client.Endpoint(), Model: ep.Model, Capabilities: caps, Items: fp.WithImages, Of: fp.Items}
		}
	}
	return nil
}
