// Package pipeline runs evaluations. A [Runner] answers and judges a
// sequence of items in two bounded pools, journaling every call as it
// completes, deduplicating work in flight and skipping what the journals
// or the cache already hold. A [Job] owns a run directory: it creates or
// resumes it (refusing other settings), runs, and finishes it with
// results.jsonl, summary.json and the manifest. [LLMModel] is the model
// under test behind an OpenAI-compatible endpoint, sent
// [GreedyParams] on every request.
package pipeline
