// Package health says whether live objects are healthy: kstatus, with one
// exception — a Pending PersistentVolumeClaim of a WaitForFirstConsumer
// StorageClass is Current, since it binds only when a pod first uses it.
// apply waits with it (through cli-utils' status watcher, or by polling)
// and status reports it.
//
// # Files
//
//   - health.go: Checker: health of live objects, and waiting for it
//   - readers.go: kstatus readers: WaitForFirstConsumer claims, presence
package health
