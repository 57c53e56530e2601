// Package schema holds the SSOT tables and the kcloud.dev/v1alpha1 spec
// schema as CUE. The files are embedded so the binary needs nothing at run
// time; pkg/spec compiles them.
//
// # Files
//
//   - embed.go: the embedded CUE files
package schema
