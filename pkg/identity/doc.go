// Package identity builds least-privilege CI identities from a plan: a
// ServiceAccount for apply, whose RBAC covers exactly the resources the
// plan (and the stacks' inventories, for pruning) writes, the inventories
// and the apply lock; and a read-only one for pull-request diffs. It
// creates them with server-side apply and mints their tokens with the
// TokenRequest API. It prints nothing.
//
// # Files
//
//   - identity.go: the apply and diff identities: objects, tokens, kubeconfigs
//   - rules.go: RBAC rules from the plan's kinds
package identity
