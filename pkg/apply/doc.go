// Package apply applies a plan with sigs.k8s.io/cli-utils, the one applier:
// server-side apply (field manager kcloud), one inventory per stack,
// inventory policy MustMatch, a kstatus wait between stacks, and pruning
// that loses nothing — PersistentVolumeClaims, Namespaces, CRDs and objects
// annotated for detach are left in the cluster (detached) unless data loss
// is allowed. One run at a time holds the apply lock; it is checked against
// the API server before anything is deleted.
//
// The whole plan is diffed once (pkg/diff) before anything is written; a
// stack holding objects the server could not dry-run then (their CRD or
// namespace comes from an earlier stack) is planned again just before it is
// applied. A stack with no change whose inventory lists exactly what it
// renders is not handed to cli-utils at all: a no-op apply costs what a
// diff costs. Otherwise cli-utils applies what changes (and its
// dependencies), while the unchanged objects stay in the inventory
// (keepingInventory): cli-utils applies one object at a time, and
// re-applying a thousand no-ops would cost a thousand round trips.
//
// The files follow the run: run.go (options, the run, the lock), stack.go
// (planning and applying one stack), charts.go (kinds a chart installs),
// protect.go (detach and reattach annotations), engine.go (the cli-utils
// Applier and Destroyer), translate.go (their events), wait.go, dataloss.go
// (--allow-data-loss), destroy.go.
//
// It reports progress as Events and returns a Result; it prints nothing.
package apply
