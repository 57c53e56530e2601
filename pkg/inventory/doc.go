// Package inventory ties kcloud's stacks to cli-utils inventories and holds
// the apply lock.
//
// Each stack (l1, l2, l3-<env>, l4-<env>) has one inventory: a ConfigMap
// kcloud-inventory-<stack> in kube-system, listing every object the stack
// has applied. Pruning only ever deletes what an inventory lists. The lock
// is a coordination.k8s.io/v1 Lease, kcloud-lock in kube-system, so that one
// apply or destroy runs at a time.
//
// # Files
//
//   - held.go: HeldError, Held, Unlock
//   - inventory.go: inventory names, IDs and the cli-utils client
//   - lock.go: Lock: acquire the Lease, or take it over once expired
//   - renew.go: keeping the Lock: renewal, Valid, Check, Release
//   - retry.go: inventory writes that survive a lost answer
package inventory
