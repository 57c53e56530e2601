// Package apply applies rendered stacks with sigs.k8s.io/cli-utils, the one
// applier: server-side apply (field manager kcloud), one inventory per
// stack, inventory policy MustMatch, a kstatus wait between stacks, and
// pruning that loses nothing — PersistentVolumeClaims, Namespaces, CRDs and
// objects annotated for detach are left in the cluster (detached) unless
// data loss is allowed. One run at a time holds the apply lock; it is
// checked against the API server before anything is deleted.
//
// Each stack is planned first with pkg/diff's server-side dry runs. A stack
// with no change whose inventory lists exactly what it renders is not
// handed to cli-utils at all: a no-op apply costs what a diff costs.
// Otherwise cli-utils applies what changes (and its dependencies), while
// the unchanged objects stay in the inventory (keepingInventory): cli-utils
// applies one object at a time, and re-applying a thousand no-ops would
// cost a thousand round trips.
//
// It reports progress as Events and returns a Result; it prints nothing.
package apply
