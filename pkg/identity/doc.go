// Package identity builds least-privilege CI identities from a plan: a
// ServiceAccount for apply, whose RBAC covers exactly the resources the
// plan (and the stacks' inventories, for pruning) writes, the inventories
// and the apply lock; and a read-only one for pull-request diffs. It
// creates them with server-side apply and mints their tokens with the
// TokenRequest API. It prints nothing.
package identity
