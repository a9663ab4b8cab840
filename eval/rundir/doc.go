// Package rundir is the run directory's on-disk format: its file names,
// the [Manifest] that records everything needed to reproduce and compare
// a run, the one comparability rule ([Manifest.Diff] for a resume,
// [Incomparable] and [Explain] for reports, comparisons and gates),
// results.jsonl ([ReadResults], [WriteResults]), and [LoadRun], which
// reads a finished run for reports without writing to it.
package rundir
