// Package apply applies a plan with kcloud's own writer: server-side
// apply with strict field validation (field manager kcloud, conflicts
// forced), each stack's creates and updates in waves — Namespaces and CRDs
// first (until Established), then the other objects by depends-on level —
// each wave in parallel on bounded workers, with no dry run on the way.
// The inventories stay cli-utils' (one ConfigMap per stack): a stack's
// inventory lists every object it renders before the first is written and
// is completed after, so a killed run is repaired by the next; pruning goes
// through cli-utils' Applier, with its inventory policy and detach
// annotations. PersistentVolumeClaims, Namespaces, CRDs and objects
// annotated for detach are left in the cluster (detached) unless data loss
// is allowed. One run at a time holds the apply lock; it is checked against
// the API server before anything is deleted.
//
// The whole plan is diffed once (pkg/diff) before anything is written; an
// object the inventory policy refuses stops the run then. The server
// validates each object as it is written: the first it rejects (invalid,
// denied by admission, over a quota) stops the run, which undoes what it
// wrote — created objects deleted, updated ones put back as they were read —
// keeping only the Namespaces and CRDs it created, and names the object's
// file:line. A stack holding objects whose CRD comes from an earlier stack
// or a chart is planned again just before it is applied. A stack with no
// change whose inventory lists exactly what it renders writes nothing: a
// no-op apply costs what a diff costs. Unchanged objects are never sent.
// With Options.Seals, what the writer wrote is sealed at the states the
// server answered with (pkg/seal), unless admission may mutate it: the
// next diff of the same plan reads only those objects' metadata.
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
//   - engine.go: the cli-utils Applier (pruning, apply-time mutations) and Destroyer
//   - event.go: Event, Outcome and Result: what Run reports
//   - guard.go: the client that re-checks the lock before every delete
//   - helmjob.go: waiting for HelmCharts' install Jobs; their failures
//   - hooks.go: chart hooks taken out of the plan: events, weights, delete policies
//   - hooks_crds.go: what pre hooks need first: the stack's Namespaces, the charts' crds/
//   - hooks_run.go: running hooks around their chart: apply, await, delete by policy
//   - partial.go: handing cli-utils only what changes (apply-time mutations); keepingInventory
//   - primed.go: serving cli-utils' reads from the plan's reads
//   - protect.go: detach annotations before pruning; reattaching detached objects
//   - prune.go: a written stack's prunes through cli-utils
//   - run.go: Options, Run, the lock, the prune guards
//   - seal.go: sealing what the writer wrote (pkg/seal)
//   - stack.go: planning and applying one stack
//   - summary.go: each stack's Summary, derived from its Events
//   - translate.go: cli-utils events into Events
//   - undo.go: RejectedError; undoing a rejected run's writes
//   - wait.go: health waits and waiting for kinds to be served
//   - waves.go: a stack's writes in waves (Namespaces and CRDs, depends-on levels)
//   - write.go: the writer: inventory first, strict server-side apply in parallel waves
package apply
