// Package store keeps bytes safe on disk: an append-only JSONL [Journal]
// with group commit (a line counts once it is synced), the cross-run
// judgment [Cache], and atomic file writes ([WriteFileAtomic],
// [WriteFileFunc], [WriteJSON]) with the journals' file mode. It knows
// nothing of items: records are keyed JSON values.
package store
