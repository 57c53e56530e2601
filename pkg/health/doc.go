// Package health says whether live objects are healthy: kstatus, with one
// exception — a Pending PersistentVolumeClaim of a WaitForFirstConsumer
// StorageClass is Current, since it binds only when a pod first uses it.
// apply waits with it (through cli-utils' status watcher, or by polling)
// and status reports it.
package health
