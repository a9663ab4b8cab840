// Package llmtest is a fake OpenAI-compatible server for tests, benchmarks
// and the demo. It serves GET /v1/models and POST /v1/chat/completions with
// two personalities, told apart by the request's model name (a name that
// starts with the judge's name, "fake-judge" by default, is a judge):
//
//   - the model under test answers like vLLM (usage, finish_reason,
//     stop_reason): deterministically given the question, a seeded share of
//     answers equal the reference (when the server was told the references),
//     the rest are plausible wrong answers;
//   - the judge answers like DeepSeek (content, reasoning_content) with a
//     verdict in psveval's JSON format, deterministic given the question,
//     reference and answer it finds in the prompt.
//
// Latency follows a configurable distribution, and faults can be injected
// at configurable rates: 429 with Retry-After, 500, 503, connection resets,
// responses slower than the client's timeout, blank content, malformed
// JSON, and a <think> block before the JSON. GET /stats returns the chat
// requests counted so far, by kind.
package llmtest
