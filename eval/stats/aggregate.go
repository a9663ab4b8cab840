package stats

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval"
)

// AggregateOptions configures an [Aggregator]. The zero value groups by
// question type with DefaultResamples resamples and DefaultSeed.
type AggregateOptions struct {
	// By groups items by this key instead of the question type: a meta
	// key such as "modality", "main_topic" or "source".
	By string
	// Resamples is the number of bootstrap resamples (0: DefaultResamples;
	// negative: no intervals).
	Resamples int
	Seed      uint64
}

// An Aggregator accumulates results into a [Summary], like vegeta's
// Metrics: Add is O(1) per result and keeps counts, an exact sum of the
// scores, and what the cluster bootstrap needs of each scored item (its
// score, group, cluster key and whether it met every criterion); Summary
// computes rates and intervals once.
//
// An Aggregator is not safe for concurrent use.
type Aggregator struct {
	opts    AggregateOptions
	groups  map[string]*group
	n       int
	usage   eval.ResultUsage
	judges  []string
	votes   [][]bool // per judge: every unit all judges scored
	yes     []int
	dims    map[string]*DimStats
	trunc   int
	served  map[string]int
	unscore map[string]int
	// scored are the scored items in the order added, for the bootstrap.
	scored []scoredItem
}

// A scoredItem is what the bootstrap needs of a scored item.
type scoredItem struct {
	group, cluster string
	score          float64
	allMet         bool
}

type group struct {
	n, scored, unscored, errors, allMet int
	// sum is the exact sum of the scored items' scores and withScore
	// their number (the bootstrap keeps each, in Aggregator.scored).
	sum       exactSum
	withScore int
}

// NewAggregator returns an empty aggregator.
func NewAggregator(opts AggregateOptions) *Aggregator {
	if opts.Resamples == 0 {
		opts.Resamples = DefaultResamples
	}
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	return &Aggregator{opts: opts, groups: map[string]*group{}, dims: map[string]*DimStats{}, unscore: map[string]int{}}
}

// GroupOf returns the group a result belongs to under opts.
func (a *Aggregator) GroupOf(r *eval.Result) string {
	if a.opts.By == "" || a.opts.By == "question_type" {
		return eval.NormalizeType(r.QuestionType)
	}
	if v := r.Meta[a.opts.By]; v != "" {
		return v
	}
	return eval.NoType
}

// Add adds one result.
func (a *Aggregator) Add(r eval.Result) {
	a.n++
	key := a.GroupOf(&r)
	g := a.groups[key]
	if g == nil {
		g = &group{}
		a.groups[key] = g
	}
	g.n++
	a.usage.Model.Add(r.Usage.Model)
	a.usage.Judge.Add(r.Usage.Judge)
	if r.FinishReason == "length" {
		a.trunc++
	}
	if r.JudgeServed != "" {
		if a.served == nil {
			a.served = map[string]int{}
		}
		a.served[r.JudgeServed]++
	}
	switch r.Status {
	case eval.StatusOK:
		g.scored++
		if r.Score != nil {
			g.sum.add(*r.Score)
			g.withScore++
			a.scored = append(a.scored, scoredItem{group: key, cluster: r.Cluster, score: *r.Score, allMet: r.AllMet != nil && *r.AllMet})
		}
		if r.AllMet != nil && *r.AllMet {
			g.allMet++
		}
	case eval.StatusUnscored:
		g.unscored++
		a.unscore[r.Unscorable]++
	default:
		g.errors++
	}
	for _, c := range r.Criteria {
		if c.Met == nil {
			continue
		}
		d := a.dims[c.Dim]
		if d == nil {
			d = &DimStats{Dim: c.Dim}
			a.dims[c.Dim] = d
		}
		d.N++
		if (c.Points < 0) != *c.Met {
			d.Passed++
		}
	}
	a.addVotes(r.Judges)
}

// addVotes adds the units (criteria) that every judge scored.
func (a *Aggregator) addVotes(votes []eval.JudgeVote) {
	if len(votes) < 2 {
		return
	}
	if a.judges == nil {
		for _, v := range votes {
			a.judges = append(a.judges, v.Judge)
		}
		a.votes = make([][]bool, len(votes))
	}
	if len(votes) != len(a.judges) {
		return
	}
	for c := range votes[0].Met {
		all, yes := true, 0
		for _, v := range votes {
			if c >= len(v.Met) || v.Met[c] == nil {
				all = false
				break
			}
			if *v.Met[c] {
				yes++
			}
		}
		if !all {
			continue
		}
		for j, v := range votes {
			a.votes[j] = append(a.votes[j], *v.Met[c])
		}
		a.yes = append(a.yes, yes)
	}
}

// A Summary is a run's aggregate statistics: the content of summary.json.
// Accuracies and rates are percentages, held exactly (see [Pct]); they are
// null where no item was scored. Intervals are present only when the
// bootstrap ran.
type Summary struct {
	NItems    int `json:"n_items"`
	NScored   int `json:"n_scored"`
	NUnscored int `json:"n_unscored"`
	NErrors   int `json:"n_errors"`
	// GroupBy names what ByType groups by ("question_type" by default).
	GroupBy string `json:"group_by"`
	// ByType holds one row per group: PSV2026's six types in the paper's
	// order first, then other labels alphabetically. It is empty, never
	// nil, for a run without items.
	ByType []TypeStats `json:"by_type"`
	// AvgMicro weights every scored item equally (the paper's "Avg.");
	// AvgMacro is the mean of the groups' accuracies.
	AvgMicro   Pct       `json:"avg_micro"`
	AvgMicroCI *Interval `json:"avg_micro_ci,omitempty"`
	AvgMacro   Pct       `json:"avg_macro"`
	AvgMacroCI *Interval `json:"avg_macro_ci,omitempty"`
	// AvgMicroDeff and AvgMacroDeff are the averages' design effects:
	// the variance of the cluster bootstrap over that of the item
	// bootstrap (1 when every item is its own cluster).
	AvgMicroDeff *float64 `json:"avg_micro_design_effect,omitempty"`
	AvgMacroDeff *float64 `json:"avg_macro_design_effect,omitempty"`
	// MacroExcludes names the groups AvgMacro leaves out: those with
	// items but none scored.
	MacroExcludes []string `json:"avg_macro_excludes,omitempty"`
	// AllMet is the share of scored items that passed every criterion,
	// with a Wilson interval.
	AllMet   Pct       `json:"all_met"`
	AllMetCI *Interval `json:"all_met_ci,omitempty"`
	// Dims holds pass rates per rubric dimension.
	Dims []DimStats `json:"dims"`
	// JudgeServed counts the items judged under each served judge model
	// and system_fingerprint, most first; more than one entry means the
	// judge changed during the run (drift).
	JudgeServed []ServedCount `json:"judge_served,omitempty"`
	// Truncated counts answers cut off by the model's max tokens.
	Truncated int `json:"n_truncated_answers"`
	// Unscorable counts unscored items by reason.
	Unscorable map[string]int   `json:"unscorable,omitempty"`
	Usage      eval.ResultUsage `json:"usage"`
	// Cost is what Usage cost at the run's prices (--model-price,
	// --judge-price); nil when none was given.
	Cost      *Cost          `json:"cost,omitempty"`
	Agreement *Agreement     `json:"judge_agreement,omitempty"`
	Bootstrap *BootstrapInfo `json:"bootstrap,omitempty"`
	// Calibrated is the judge-corrected accuracy, when a report is asked
	// for one from human labels (report --calibrate); never stored in
	// summary.json by a run.
	Calibrated *Calibrated `json:"calibrated,omitempty"`
	// Run holds what the run added: retries, cost, served models. It is
	// nil for summaries computed from results alone.
	Run *RunInfo `json:"run,omitempty"`
}

// TypeStats is one group's row.
type TypeStats struct {
	QuestionType string    `json:"question_type"`
	N            int       `json:"n"`
	NScored      int       `json:"n_scored"`
	NUnscored    int       `json:"n_unscored"`
	NErrors      int       `json:"n_errors"`
	Accuracy     Pct       `json:"accuracy"`
	CI           *Interval `json:"ci,omitempty"`
	// DesignEffect is the variance of the cluster bootstrap over that of
	// the item bootstrap (1 when every item is its own cluster).
	DesignEffect *float64 `json:"design_effect,omitempty"`
	AllMet       Pct      `json:"all_met"`
}

// DimStats is the pass rate of one rubric dimension.
type DimStats struct {
	Dim    string `json:"dim"`
	N      int    `json:"n"`
	Passed int    `json:"passed"`
	Rate   Pct    `json:"rate"`
}

// Agreement measures how often several judges agree, over the criteria
// every judge scored.
type Agreement struct {
	Judges  []string `json:"judges"`
	Units   int      `json:"units"`
	Percent float64  `json:"percent_agreement"`
	// CohenKappa is set for two judges, FleissKappa for more.
	CohenKappa  *float64 `json:"cohen_kappa,omitempty"`
	FleissKappa *float64 `json:"fleiss_kappa,omitempty"`
}

// A LimitPoint is an adaptive limit at T seconds into the run.
type LimitPoint struct {
	T     float64 `json:"t"`
	Limit int     `json:"limit"`
}

// A ReplicaCount is one replica's traffic.
type ReplicaCount struct {
	Endpoint string `json:"endpoint"`
	URL      string `json:"url"`
	Requests int64  `json:"requests"`
	Failures int64  `json:"failures"`
	Served   string `json:"served_model,omitempty"`
}

// A ServedCount is how many items one served judge identity judged.
type ServedCount struct {
	Served string `json:"served"`
	Items  int    `json:"items"`
}

// BootstrapInfo records how intervals were computed.
type BootstrapInfo struct {
	Resamples int     `json:"resamples"`
	Seed      uint64  `json:"seed"`
	Level     float64 `json:"level"`
	Method    string  `json:"method"`
	// Clusters is the number of clusters resampled, when some holds
	// several items (0: every item was its own).
	Clusters int `json:"clusters,omitempty"`
	// Raised says that a comparison drew five times its resamples,
	// because a p-value lay within the bootstrap's error of α.
	Raised bool `json:"raised_near_alpha,omitempty"`
}

// RunInfo is what a run adds to its summary.
type RunInfo struct {
	// Calls counts, per endpoint, the requests, HTTP retries, repairs,
	// re-asks for length and failed calls of every process that worked on
	// the run (see [CountCalls]).
	Calls map[string]eval.CallCounts `json:"calls"`
	// Retries and Repairs repeat Calls' HTTP retries per endpoint and the
	// judges' repairs.
	Retries map[string]int64 `json:"retries"`
	// Timeouts counts, by endpoint kind, the attempts this session cut
	// off at the call timeout and sent again (part of Retries): a server
	// that serves fewer requests at once than were sent.
	Timeouts     map[string]int64  `json:"timeouts,omitempty"`
	Repairs      int64             `json:"judge_repairs"`
	ServedModels map[string]string `json:"served_models"`
	// LimitTrace is, per endpoint with an adaptive concurrency limit, the
	// limit over the run.
	LimitTrace map[string][]LimitPoint `json:"concurrency_trace,omitempty"`
	// Replicas counts, per replica of an endpoint, the requests it took
	// and the attempts that failed on it (this process's).
	Replicas []ReplicaCount `json:"replicas,omitempty"`
	// Cached counts the verdicts taken from the cross-run judgment cache:
	// judgments not paid for again.
	Cached int `json:"cached_judgments"`
	// NSkipped counts the items --skip-bad-items left out; Skipped lists
	// them. They are in no other count.
	NSkipped int         `json:"n_skipped"`
	Skipped  []eval.Skip `json:"skipped_items,omitempty"`
}

// ErrInconsistent reports counts that do not add up; a summary that fails
// its checks is never printed.
var ErrInconsistent = errors.New("eval: inconsistent counts")

// Summary computes the summary. It checks that the group counts add up to
// the items and that scored, unscored and errored items add up to the
// items, overall and per group.
func (a *Aggregator) Summary() (*Summary, error) {
	s := &Summary{GroupBy: cmp.Or(strings.TrimSpace(a.opts.By), "question_type"), Usage: a.usage, Truncated: a.trunc, ByType: []TypeStats{}, Dims: []DimStats{}}
	if len(a.unscore) > 0 {
		s.Unscorable = maps.Clone(a.unscore)
	}
	keys := slices.SortedFunc(maps.Keys(a.groups), eval.TypeOrder)
	const level = 0.95
	boot := a.opts.Resamples > 0
	var sum, macro big.Rat
	var allMet, scoredGroups int
	for _, k := range keys {
		g := a.groups[k]
		if g.scored+g.unscored+g.errors != g.n {
			return nil, fmt.Errorf("%w: group %q has %d scored + %d unscored + %d errors != %d items", ErrInconsistent, k, g.scored, g.unscored, g.errors, g.n)
		}
		ts := TypeStats{QuestionType: k, N: g.n, NScored: g.scored, NUnscored: g.unscored, NErrors: g.errors}
		if g.withScore != g.scored {
			return nil, fmt.Errorf("%w: group %q has %d scored items but %d scores", ErrInconsistent, k, g.scored, g.withScore)
		}
		if g.scored == 0 {
			s.MacroExcludes = append(s.MacroExcludes, k)
		}
		if g.scored > 0 {
			gsum := g.sum.rat()
			mean := new(big.Rat).Quo(gsum, new(big.Rat).SetInt64(int64(g.scored)))
			macro.Add(&macro, mean)
			scoredGroups++
			ts.Accuracy = pctRat(mean)
			ts.AllMet = PctOf(int64(g.allMet), int64(g.scored))
		}
		s.ByType = append(s.ByType, ts)
		s.NItems += g.n
		s.NScored += g.scored
		s.NUnscored += g.unscored
		s.NErrors += g.errors
		if g.scored > 0 {
			sum.Add(&sum, g.sum.rat())
		}
		allMet += g.allMet
	}
	if s.NItems != a.n {
		return nil, fmt.Errorf("%w: groups hold %d items, %d were added", ErrInconsistent, s.NItems, a.n)
	}
	if s.NScored > 0 {
		s.AvgMicro = pctRat(sum.Quo(&sum, new(big.Rat).SetInt64(int64(s.NScored))))
		s.AvgMacro = pctRat(macro.Quo(&macro, new(big.Rat).SetInt64(int64(scoredGroups))))
		s.AllMet = PctOf(int64(allMet), int64(s.NScored))
	}
	if boot {
		a.intervals(s, level)
	}
	for _, k := range slices.Sorted(maps.Keys(a.dims)) {
		d := *a.dims[k]
		d.Rate = PctOf(int64(d.Passed), int64(d.N))
		s.Dims = append(s.Dims, d)
	}
	s.Agreement = a.agreement()
	for k, n := range a.served {
		s.JudgeServed = append(s.JudgeServed, ServedCount{k, n})
	}
	slices.SortFunc(s.JudgeServed, func(x, y ServedCount) int { return cmp.Or(y.Items-x.Items, strings.Compare(x.Served, y.Served)) })
	return s, nil
}

// intervals fills the summary's intervals and design effects by the
// cluster bootstrap: clusters are drawn with replacement and every column
// is recomputed from the same draw (see clusterSet). A column gets no
// interval when fewer than two of its items were scored, or when its
// items are in so few clusters that resamples often hold none of them.
func (a *Aggregator) intervals(s *Summary, level float64) {
	method := "percentile bootstrap over clusters (the items that share an image, or --cluster-by's key, resample together), every column from the same draw"
	s.Bootstrap = &BootstrapInfo{Resamples: a.opts.Resamples, Seed: a.opts.Seed, Level: level, Method: method}
	if len(a.scored) < 2 {
		return
	}
	var groups []int // s.ByType index of each bootstrapped group
	gi := map[string]int{}
	for i, t := range s.ByType {
		if t.NScored > 0 {
			gi[t.QuestionType] = len(groups)
			groups = append(groups, i)
		}
	}
	n := len(a.scored)
	x, met, group := make([]float64, n), make([]float64, n), make([]int, n)
	allMet := 0
	for i, it := range a.scored {
		x[i], group[i] = it.score, gi[it.group]
		if it.allMet {
			met[i] = 1
			allMet++
		}
	}
	cs := newClusterSet(n, func(i int) string { return a.scored[i].cluster })
	ng := len(groups)
	reps := cs.columnReps(x, group, ng, a.opts.Resamples, a.opts.Seed, 0)
	var items [][]float64 // the item bootstrap, for the design effect
	if !cs.singletons() {
		single := newClusterSet(n, func(int) string { return "" })
		items = single.columnReps(x, group, ng, a.opts.Resamples, a.opts.Seed, 0)
		s.Bootstrap.Clusters = len(cs.members)
	}
	interval := func(c int) (*Interval, *float64) {
		r, ok := defined(reps[c])
		if !ok {
			return nil, nil
		}
		deff := 1.0
		if items != nil {
			ri, _ := defined(items[c])
			if vi := variance(ri); vi > 0 {
				deff = clean(variance(r) / vi)
			}
		}
		ci := percentileInterval(r, level).percent()
		return &ci, &deff
	}
	for k, i := range groups {
		if s.ByType[i].NScored > 1 {
			s.ByType[i].CI, s.ByType[i].DesignEffect = interval(k)
		}
	}
	s.AvgMicroCI, s.AvgMicroDeff = interval(ng)
	s.AvgMacroCI, s.AvgMacroDeff = interval(ng + 1)
	if items == nil {
		w := wilson(allMet, n).percent()
		s.AllMetCI = &w
		return
	}
	mreps := cs.columnReps(met, make([]int, n), 1, a.opts.Resamples, a.opts.Seed, 1)
	if r, ok := defined(mreps[1]); ok {
		ci := percentileInterval(r, level).percent()
		s.AllMetCI = &ci
	}
}

func (a *Aggregator) agreement() *Agreement {
	if len(a.judges) < 2 {
		return nil
	}
	ag := &Agreement{Judges: a.judges, Units: len(a.yes)}
	if ag.Units == 0 {
		return ag
	}
	agree := 0
	for _, y := range a.yes {
		if y == 0 || y == len(a.judges) {
			agree++
		}
	}
	ag.Percent = 100 * float64(agree) / float64(ag.Units)
	if len(a.judges) == 2 {
		k := cohenKappa(a.votes[0], a.votes[1])
		ag.CohenKappa = finite(k)
	} else {
		k := fleissKappa(a.yes, len(a.judges))
		ag.FleissKappa = finite(k)
	}
	return ag
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// A Cost is what a run's tokens cost, in USD, at its prices.
type Cost struct {
	ModelUSD float64 `json:"model_usd"`
	JudgeUSD float64 `json:"judge_usd"`
	TotalUSD float64 `json:"total_usd"`
}

// CostOf prices usage; nil when both prices are zero (none given).
func CostOf(u eval.ResultUsage, model, judge eval.Price) *Cost {
	if model.IsZero() && judge.IsZero() {
		return nil
	}
	m, j := model.Cost(u.Model), judge.Cost(u.Judge)
	return &Cost{ModelUSD: clean(m), JudgeUSD: clean(j), TotalUSD: clean(m + j)}
}
