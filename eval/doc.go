// Package eval is psveval's vocabulary: the [Item] under test and its
// [Image]s, the [Model] and [Judge] interfaces and what they return
// ([Answer], [Verdict], [CallCounts], [Usage]), the [Result] of one item,
// PSV2026's question types ([QuestionTypes], [NormalizeType]), the
// [InputError] that names bad input, and [Skip]. It imports none of its
// sub-packages; they carry the work, along the data flow:
//
//   - eval/dataset opens Parquet and JSONL datasets and streams Items;
//   - eval/pipeline answers and judges them (Runner) and owns a run
//     directory from start to finish (Job);
//   - eval/store is the append-only journal, the judgment cache and
//     atomic file writes that the pipeline records into;
//   - eval/rundir is the run directory's format: manifest, the one
//     comparability rule, results, loading a run for reports;
//   - eval/stats aggregates results into summaries and compares runs;
//   - eval/llm is the OpenAI-compatible client, eval/llmtest the fake
//     server, eval/evaltest synthetic data for tests and benchmarks.
package eval
