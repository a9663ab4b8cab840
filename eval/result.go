package eval

// Item statuses in results.jsonl.
const (
	StatusOK       = "ok"
	StatusUnscored = "unscored"
	StatusError    = "error"
)

// A Result is one line of results.jsonl: an item, its answer, its verdict
// and its score. Every scoring rule can be recomputed from Criteria (each
// with its points) without asking the judge again.
type Result struct {
	ID           string `json:"id"`
	QuestionType string `json:"question_type"`
	Question     string `json:"question"`
	Reference    string `json:"reference"`
	Answer       string `json:"answer"`
	FinishReason string `json:"finish_reason"`
	// Criteria holds the final verdict per criterion: Met is nil when the
	// criterion is unscorable (or, with several judges, a tie).
	Criteria []ResultCriterion `json:"criteria"`
	// Score is in [0, 1] and AllMet is whether every criterion passed;
	// both are null unless Status is "ok".
	Score  *float64 `json:"score"`
	AllMet *bool    `json:"all_met"`
	// Status is "ok", "unscored" (some criterion unscorable: excluded from
	// accuracy) or "error" (no answer or no verdict: a resume retries it).
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
	// Unscorable says why the verdict has unscorable criteria.
	Unscorable string `json:"unscorable,omitempty"`
	// Usage is the tokens paid for, retries and repairs included.
	Usage ResultUsage `json:"usage"`
	// LatencyMS is the model's answer time; JudgeLatencyMS the judges'.
	LatencyMS      int64 `json:"latency_ms"`
	JudgeLatencyMS int64 `json:"judge_latency_ms"`
	// Judges holds each judge's own verdicts when there are several.
	Judges []JudgeVote `json:"judges,omitempty"`
	// JudgeServed names what judged the item as the endpoint reported it:
	// the served model id and, where the endpoint sends one, its
	// system_fingerprint ("deepseek-chat fp_1a2b"); several judges are
	// joined by "; ". A value that changes within a run is drift.
	JudgeServed string            `json:"judge_served,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
	// Cluster is the item's cluster key (see [ClusterOf]): items with the
	// same key resample together; "" is a cluster of its own.
	Cluster string `json:"cluster,omitempty"`
}

// A ResultCriterion is one criterion of a result.
type ResultCriterion struct {
	Dim         string `json:"dim"`
	Points      int64  `json:"points"`
	Met         *bool  `json:"met"`
	Explanation string `json:"explanation,omitempty"`
}

// ResultUsage is the token usage of one item per endpoint.
type ResultUsage struct {
	Model Usage `json:"model"`
	Judge Usage `json:"judge"`
}

// A JudgeVote is one judge's verdict on an item, when several judge.
type JudgeVote struct {
	Judge string  `json:"judge"`
	Met   []*bool `json:"met"`
	Error string  `json:"error,omitempty"`
}
