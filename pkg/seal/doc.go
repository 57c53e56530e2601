// Package seal remembers, per cluster, stack and object, that applying
// what kcloud sends for the object (a digest of it) to the object as it
// was (its UID and resourceVersion, which any write changes) changes
// nothing. A diff or apply that would send the same reads only the
// object's metadata and, finding it at the same UID and resourceVersion,
// knows it unchanged without reading, merging or dry-running it. A seal
// that does not match is ignored: it can make a run cheaper, never its
// answer different.
//
// Seals live in the user's cache directory (kcloud/seals), one file per
// cluster and stack, holding digests keyed with a random key kept in the
// user's config directory (kcloud/seal.key), not beside them: a run on a
// machine without them reads and compares every object, as before.
//
// # Files
//
//   - seal.go: Entry, Seals, Key, Of, Memo (its key, Plan, Load, Store)
package seal
