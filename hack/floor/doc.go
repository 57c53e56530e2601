// Command floor is the benchmarks' floor: the least a client can do to
// apply a manifest with server-side apply. It reads the manifest (YAML,
// several documents), finds each kind's resource through discovery, and
// sends exactly one server-side-apply PATCH per object (field manager
// kcloud, conflicts forced, fieldValidation=Strict) from 16 workers, with
// no client-side throttling. Namespaces and CRDs go first, so that what
// lives in them can be created in the same run. With --dry-run every PATCH
// is a dry run (dryRun=All): the floor of a diff. It reads nothing else
// and compares nothing.
//
//	floor --kubeconfig FILE [--dry-run] [--workers 16] MANIFEST
//
// # Files
//
//   - main.go: the floor client: flags, discovery, the PATCH workers
package main
