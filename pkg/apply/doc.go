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
// Charts' hooks are taken out of the plan and run around their chart
// (pre-install/pre-upgrade before it, post-install/post-upgrade once it is
// healthy), and an existing Helm release a chart component takes over is
// adopted in place, its records removed without an uninstall.
//
// It reports progress as Events and returns a Result; it prints nothing.
//
// # Files
//
//   - adopt.go: adopting existing Helm releases in place; their records removed without an uninstall
//   - charts.go: kinds a chart of the plan installs, deferred until served
//   - dataloss.go: deleting detached objects with --allow-data-loss
//   - destroy.go: Destroy: one stack through its inventory
//   - engine.go: the cli-utils Applier and Destroyer
//   - event.go: Event, Outcome and Result: what Run reports
//   - guard.go: the client that re-checks the lock before every delete
//   - helmjob.go: waiting for HelmCharts' install Jobs; their failures
//   - hooks.go: chart hooks taken out of the plan: events, weights, delete policies
//   - hooks_crds.go: what pre hooks need first: the stack's Namespaces, the charts' crds/
//   - hooks_run.go: running hooks around their chart: apply, await, delete by policy
//   - partial.go: handing cli-utils only what changes; keepingInventory
//   - primed.go: serving cli-utils' reads from the plan's reads
//   - protect.go: detach annotations before pruning; reattaching detached objects
//   - run.go: Options, Run, the lock, the prune guards
//   - stack.go: planning and applying one stack
//   - summary.go: each stack's Summary, derived from its Events
//   - translate.go: cli-utils events into Events
//   - wait.go: health waits and waiting for kinds to be served
package apply
