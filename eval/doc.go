// Package eval is psveval's engine: datasets, the run pipeline, its
// journals, and the statistics that turn results into reports and gates.
//
// A run goes through these steps:
//
//  1. [Open] reads a dataset's schema (Parquet in the Hugging Face layout,
//     or JSONL), resolves the column [Mapping] and checks column types.
//     [Dataset.All] then streams [Item]s, one row group or line at a time,
//     checking each (ids unique, question and answer present, images
//     readable and inside the dataset's folder).
//  2. [FingerprintOf] walks the dataset once and hashes every item's
//     canonical form, so the run's [Manifest] records exactly what was
//     evaluated, and a resume into a directory whose manifest differs
//     (see [Manifest.Diff]) is refused.
//  3. A [Runner] walks the dataset again. Items whose answers are not in the
//     answers [Journal] go to the answer pool, where a [Model] answers them;
//     answered items go straight on to the judge pool, where each [Judge]
//     grades them unless its verdict is in the judgments journal or the
//     cross-run [Cache]. Both pools are bounded, both endpoints stay busy,
//     and every answer and judgment is synced to its journal as it
//     completes. Keys are content hashes ([AnswerKey], [JudgmentKey]), so
//     nothing is paid for twice.
//  4. [WriteResults] walks the dataset a last time and joins each item with
//     its journal records into a [Result]: the verdicts of several judges
//     are combined by majority, and the item is scored by the run's
//     [rubric.Rule]. An [Aggregator] turns results into a [Summary], with
//     bootstrap intervals.
//  5. Reports start from run directories alone: [LoadRun] reads
//     results.jsonl, and [Compare] pairs two runs item by item for the
//     paired intervals and p-values that gates decide on.
package eval
