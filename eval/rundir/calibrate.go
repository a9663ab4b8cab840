package rundir

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/stats"
	"github.com/psveval/psveval/rubric"
)

// A SampleRecord says how a label sheet's items were drawn from a run's
// scored items, so that a calibration can weight its strata and check
// that the labels are of the answers drawn.
type SampleRecord struct {
	Run        string `json:"run"`
	Seed       uint64 `json:"seed"`
	N          int    `json:"n"`
	Population int    `json:"population"`
	// Stratify is the result field the draw was stratified by
	// ("question_type", or a meta column); "" for a uniform draw.
	Stratify string          `json:"stratify,omitempty"`
	Strata   []stats.Stratum `json:"strata"`
	Items    []SampledItem   `json:"items"`
}

// A SampledItem is one item drawn: its id, stratum and the digest of the
// answer the labeller is shown.
type SampledItem struct {
	ID      string `json:"id"`
	Stratum string `json:"stratum,omitempty"`
	Answer  string `json:"answer_sha256"`
}

// Design describes the draw in words.
func (s *SampleRecord) Design() string {
	if s.Stratify == "" {
		return fmt.Sprintf("uniform random draw of %d of %d scored items (seed %d)", s.N, s.Population, s.Seed)
	}
	return fmt.Sprintf("random draw of %d of %d scored items stratified by %s (seed %d)", s.N, s.Population, s.Stratify, s.Seed)
}

// AnswerDigest is the digest of an answer a sample record keeps.
func AnswerDigest(answer string) string {
	h := sha256.Sum256([]byte(answer))
	return hex.EncodeToString(h[:8])
}

// SampleOptions configure [DrawSample].
type SampleOptions struct {
	N    int
	Seed uint64
	// Stratify is "" (uniform), "type" or "question_type", or a meta
	// column such as "source".
	Stratify string
}

// DrawSample draws opts.N of the run's scored items at random, seeded,
// for a person to label: the record of the draw and the results drawn,
// in file order.
func DrawSample(dir string, opts SampleOptions) (*SampleRecord, []eval.Result, error) {
	if opts.N < 1 {
		return nil, nil, fmt.Errorf("a sample of %d items: want at least 1", opts.N)
	}
	by := opts.Stratify
	if by == "type" {
		by = "question_type"
	}
	agg := stats.NewAggregator(stats.AggregateOptions{By: by})
	var scored []eval.Result
	var strata []string
	err := ReadResults(filepath.Join(dir, ResultsFile), func(r eval.Result) error {
		if r.Status != eval.StatusOK {
			return nil
		}
		scored = append(scored, r)
		key := ""
		if by != "" {
			key = agg.GroupOf(&r)
		}
		strata = append(strata, key)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(scored) == 0 {
		return nil, nil, fmt.Errorf("%s: no scored item to draw from", dir)
	}
	picked, st := stats.Sample(strata, opts.N, opts.Seed)
	rec := &SampleRecord{Run: dir, Seed: opts.Seed, N: len(picked), Population: len(scored), Stratify: by, Strata: st}
	out := make([]eval.Result, len(picked))
	for k, i := range picked {
		out[k] = scored[i]
		rec.Items = append(rec.Items, SampledItem{ID: scored[i].ID, Stratum: strata[i], Answer: AnswerDigest(scored[i].Answer)})
	}
	return rec, out, nil
}

// CalibrateOptions configure [Calibrate].
type CalibrateOptions struct {
	// By groups as the report does ("" for question_type).
	By          string
	MinLabelled int
}

// A LabelError is a labels file that cannot calibrate a run, with every
// offending label listed by reason.
type LabelError struct {
	File, Run string
	// Problems are "reason: ITEM, ITEM/CRITERION, ..." lines.
	Problems []string
}

func (e *LabelError) Error() string {
	return fmt.Sprintf("%s cannot calibrate %s:\n  %s", e.File, e.Run, strings.Join(e.Problems, "\n  "))
}

// Calibrate estimates the run's accuracy as the labels would mark it
// (see [stats.Calibrate]): each labelled item's human score comes from
// the run's own scoring rule. It returns a *LabelError when labels name
// items or criteria the run does not have, cover only some of an item's
// criteria, lie outside the sheet's recorded draw, or were made on
// other answers than the run's. Warnings (no recorded draw, drawn items
// left unlabelled, labelled items the judge could not score) go in the
// result's Warnings.
func Calibrate(dir string, ls *LabelSet, m *Manifest, opts CalibrateOptions) (*stats.Calibrated, error) {
	items, warnings, err := CalItems(dir, ls, m, opts)
	if err != nil {
		return nil, err
	}
	design := "no recorded draw: the labelled items are taken for a uniform random sample of the scored items"
	if ls.Sample != nil {
		design = ls.Sample.Design()
	}
	cal := stats.Calibrate(items, stats.CalibrateOptions{MinLabelled: opts.MinLabelled, Design: design})
	cal.Warnings = warnings
	return cal, nil
}

// CalItems reads the run's scored items for [stats.Calibrate] and
// [stats.PlanLabels], with the labelled ones' human scores by the run's
// rule and their design weights; see [Calibrate] for the errors and
// warnings.
func CalItems(dir string, ls *LabelSet, m *Manifest, opts CalibrateOptions) ([]stats.CalItem, []string, error) {
	rule := rubric.DefaultRule
	if m != nil && m.Scoring.Rule != "" {
		r, err := rubric.ParseRule(m.Scoring.Rule)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: manifest: %w", dir, err)
		}
		rule = r
	}
	byItem := map[string]map[string]bool{}
	var order []string
	for _, l := range ls.Labels {
		if byItem[l.ID] == nil {
			byItem[l.ID] = map[string]bool{}
			order = append(order, l.ID)
		}
		byItem[l.ID][l.Dim] = *l.Met
	}
	var drawn map[string]SampledItem
	weights := map[string]float64{}
	if ls.Sample != nil {
		drawn = map[string]SampledItem{}
		for _, it := range ls.Sample.Items {
			drawn[it.ID] = it
		}
		for _, s := range ls.Sample.Strata {
			weights[s.Key] = s.Weight()
		}
	}
	agg := stats.NewAggregator(stats.AggregateOptions{By: opts.By})
	var items []stats.CalItem
	var partial, noDim, otherAnswer, notDrawn, unscored []string
	found := map[string]bool{}
	err := ReadResults(filepath.Join(dir, ResultsFile), func(r eval.Result) error {
		labels, labelled := byItem[r.ID]
		if labelled {
			found[r.ID] = true
		}
		if r.Status != eval.StatusOK {
			if labelled {
				unscored = append(unscored, r.ID)
			}
			return nil
		}
		it := stats.CalItem{ID: r.ID, Group: agg.GroupOf(&r), Cluster: r.Cluster, Judge: *r.Score, JudgeAllMet: r.AllMet != nil && *r.AllMet}
		if !labelled {
			items = append(items, it)
			return nil
		}
		cs := make([]rubric.Criterion, len(r.Criteria))
		met := make([]*bool, len(r.Criteria))
		var missing []string
		for i, c := range r.Criteria {
			cs[i] = rubric.Criterion{Dim: c.Dim, Points: c.Points}
			if v, ok := labels[c.Dim]; ok {
				met[i] = &v
			} else {
				missing = append(missing, c.Dim)
			}
		}
		for d := range labels {
			if !slices.ContainsFunc(r.Criteria, func(c eval.ResultCriterion) bool { return c.Dim == d }) {
				noDim = append(noDim, r.ID+"/"+d)
			}
		}
		if len(missing) > 0 {
			partial = append(partial, fmt.Sprintf("%s (no label for %s)", r.ID, strings.Join(missing, ", ")))
			return nil
		}
		if drawn != nil {
			d, ok := drawn[r.ID]
			switch {
			case !ok:
				notDrawn = append(notDrawn, r.ID)
				return nil
			case d.Answer != AnswerDigest(r.Answer):
				otherAnswer = append(otherAnswer, r.ID)
				return nil
			}
			it.Weight = weights[d.Stratum]
		}
		score, allPassed, _ := rule.Score(cs, met)
		it.Labelled, it.Human, it.HumanAllMet = true, score, allPassed
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var noItem []string
	for _, id := range order {
		if !found[id] {
			noItem = append(noItem, id)
		}
	}
	le := &LabelError{File: ls.Path, Run: dir}
	add := func(what string, ids []string, fix string) {
		if len(ids) > 0 {
			le.Problems = append(le.Problems, fmt.Sprintf("%s %s: %s (%s)", eval.Nouns(len(ids), "label"), what, list(ids), fix))
		}
	}
	add("name items the run does not have", noItem, "check the ids against its results.jsonl")
	add("name criteria their item does not have", noDim, "name criteria as results.jsonl does")
	add("cover only some of an item's criteria", partial, "label every criterion of a labelled item, or none")
	add("are of items outside the sheet's recorded draw", notDrawn, "label the items the sheet drew, or drop its first line to calibrate without a recorded draw")
	add("were made on other answers than this run's", otherAnswer, "a sheet's labels calibrate the run it was drawn from, or a re-judging of the same answers")
	if len(le.Problems) > 0 {
		return nil, nil, le
	}
	var warnings []string
	if ls.Sample == nil {
		warnings = append(warnings, fmt.Sprintf("%s records no random draw: the correction is unbiased only if its labelled items are a uniform random sample of the run's items (draw them with psveval audit --sample)", ls.Path))
	} else {
		var left []string
		for _, it := range ls.Sample.Items {
			if _, ok := byItem[it.ID]; !ok {
				left = append(left, it.ID)
			}
		}
		if len(left) > 0 {
			warnings = append(warnings, fmt.Sprintf("%s of the %d drawn have no labels (%s): the estimate takes them for missing at random; label them to keep the draw random", eval.Nouns(len(left), "item"), ls.Sample.N, list(left)))
		}
	}
	if len(unscored) > 0 {
		warnings = append(warnings, fmt.Sprintf("%s labelled but not scored in this run, left out: %s", eval.Nouns(len(unscored), "item"), list(unscored)))
	}
	return items, warnings, nil
}

// list joins ids, the first ten and a count of the rest.
func list(ids []string) string {
	if len(ids) <= 10 {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:10], ", ") + fmt.Sprintf(" and %d more", len(ids)-10)
}

// CalibrateRuns sets each run's Summary.Calibrated from the labels; see
// [Calibrate]. A run that cannot be calibrated stops it with its error.
func CalibrateRuns(runs []*RunDir, ls *LabelSet, opts CalibrateOptions) error {
	for _, r := range runs {
		cal, err := Calibrate(r.Dir, ls, r.Manifest, opts)
		if err != nil {
			return err
		}
		r.Summary.Calibrated = cal
	}
	return nil
}
