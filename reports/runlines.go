package reports

import (
	"fmt"

	"github.com/psveval/psveval/eval"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/stats"
)

// RunLines are the lines a finished run prints under its table: the
// counts and calls, timeouts and what they suggest, the cost, truncated
// answers, and the files written to dir. cached counts the judgments the
// cache served.
func RunLines(dir string, s *stats.Summary, m *rundir.Manifest, cached int) []string {
	mc, jc := s.Run.Calls["model"], s.Run.Calls["judge"]
	retries := fmt.Sprintf("HTTP retries: model %d, judge %d", mc.Retries, jc.Retries)
	if m.Source != "" { // a re-judging: the answers, and their retries, are the source run's
		retries = fmt.Sprintf("HTTP retries: judge %d (the answers are the source run's)", jc.Retries)
	}
	lines := []string{fmt.Sprintf("%s: %d scored, %d unscored, %s; %s; %s, %s; %s",
		eval.Nouns(s.NItems, "item"), s.NScored, s.NUnscored, eval.Nouns(s.NErrors, "error"), retries,
		eval.Nouns(jc.Repairs, "judge repair"), eval.Nouns(jc.LengthRetries, "length re-ask"), eval.Nouns(cached, "cached judgment"))}
	for _, kind := range []string{"model", "judge"} {
		if n := s.Run.Timeouts[kind]; n > 0 {
			conc, _ := m.Settings[map[string]string{"model": "concurrency", "judge": "judge_concurrency"}[kind]].(int)
			lines = append(lines, fmt.Sprintf("note: %s to the %s timed out at --call-timeout and %s sent again: the server serves fewer requests at once than the %d psveval keeps in flight; --%sconcurrency auto finds the level it serves (or raise --call-timeout)",
				eval.Nouns(n, "request"), kind, map[bool]string{true: "was", false: "were"}[n == 1], conc, map[string]string{"model": "", "judge": "judge-"}[kind]))
		}
	}
	if c := s.Cost; c != nil {
		lines = append(lines, fmt.Sprintf("cost: $%.4f (model $%.4f, judge $%.4f); judge tokens: %d prompt (%d cached), %d completion",
			c.TotalUSD, c.ModelUSD, c.JudgeUSD, s.Usage.Judge.Prompt, s.Usage.Judge.Cached, s.Usage.Judge.Completion))
	}
	if s.Truncated > 0 {
		lines = append(lines, fmt.Sprintf("warning: %s cut off at max_tokens (finish_reason length) and scored as they stand: raise --max-tokens", eval.Nouns(s.Truncated, "answer")))
	}
	return append(lines, fmt.Sprintf("wrote %s/{%s,%s,%s,%s}", dir, rundir.ResultsFile, rundir.SummaryFile, rundir.ReportFile, rundir.ManifestFile))
}
