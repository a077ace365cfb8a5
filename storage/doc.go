// Package storage keeps Flywheel's events, sync cursors, HTTP cache validators and
// KPI snapshots in one bbolt file. Every batch is one write
// transaction; values are copied out of transactions before they are returned.
// Open is for the one writer (it creates and migrates the file); OpenReadOnly is
// for commands that only read, which share the file and never change it.
//
// The bucket tree (schema version 2):
//
//	meta/
//	  version                      → uint64, big endian; written last by a migration
//	  count.deployment|change|incident → uint64 record counters (v2)
//	deployments/ changes/ incidents/
//	  by_time/    <time> ‖ id      → record (binary, see codec.go)
//	  ids/        id               → <time>
//	  by_service/ <str> service ‖ <time> ‖ id → ∅   (v2)
//	  by_repo/    <str> repo ‖ <time> ‖ id    → ∅   (v2; deployments and changes)
//	cursors/
//	  source ‖ 0x00 ‖ key          → cursor value
//	validators/
//	  key                          → etag, last-modified
//	snapshots/                     (v2)
//	  latest                       → <time> at ‖ data
//	  daily/ <time> UTC midnight   → <time> at ‖ data
//
// <time> is 12 bytes that sort like the instant: the Unix seconds as a big-endian
// uint64 with the sign bit flipped, then the nanoseconds as a big-endian uint32.
// <str> is a 2-byte big-endian length followed by the bytes, so that one
// service's keys never run into another's. A kind's time is its own clock
// (flywheel.Query): FinishedAt, flywheel.ChangeTime, TriggeredAt. Records are
// clustered by time, so range scans and Events read pages in key order.
package storage
