// Package stats turns results into numbers: the [Aggregator] and its
// [Summary] (accuracy per group, micro and macro averages, all-met rates,
// per-dimension pass rates, judge agreement), bootstrap and Wilson
// intervals, and the paired comparison of two runs ([Compare]) that gates
// decide on. Accuracies are exact ([Pct], big.Rat) and printed by one
// rounding rule, half away from zero.
package stats
