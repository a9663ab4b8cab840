// Package dataset opens datasets of test items, Parquet in the Hugging
// Face layout or JSONL, maps their columns to roles ([Mapping]), streams
// checked [eval.Item]s with their images ([Dataset.All]), fingerprints
// what is evaluated ([FingerprintOf]) and describes a dataset and its
// problems ([Inspect]). Every error names the file, the line or row and
// the item.
package dataset
