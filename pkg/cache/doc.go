// Package cache is the content-addressed store of pinned URL manifests: each
// body is a file named by its lowercase sha256 hex, checked against that
// name on every read, so a pinned manifest is fetched once and then works
// offline (air-gapped CI fills it ahead of time).
//
// # Files
//
//   - cache.go: Dir: entries named by sha256, checked on every read
//   - chartfetch.go: RemoteCharts: chart archives from HTTPS repositories and OCI registries
//   - charts.go: Charts: chart archives from the cache, pinned by the lock file
//   - fetch.go: Fetcher: the cache in front of render's HTTPS fetcher
//   - lock.go: Lock: a spec tree's chart lock file (repo, chart, version → sha256)
//   - pins.go: the pinned URL manifests and the charts of a tree
package cache
