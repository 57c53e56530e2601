// Package gentree writes large synthetic spec trees for benchmarks: a
// Cluster with two environments and n L3 + n L4 components, each with a
// helm source, storage, inline objects and dependsOn edges.
//
// # Files
//
//   - gentree.go: Write: the Cluster and the generated L3/L4 components
package gentree
