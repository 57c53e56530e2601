// Package inventory ties kcloud's stacks to cli-utils inventories and holds
// the apply lock.
//
// Each stack (l1, l2, l3-<env>, l4-<env>) has one inventory: a ConfigMap
// kcloud-inventory-<stack> in kube-system, listing every object the stack
// has applied. Pruning only ever deletes what an inventory lists. The lock
// is a coordination.k8s.io/v1 Lease, kcloud-lock in kube-system, so that one
// apply or destroy runs at a time.
package inventory
