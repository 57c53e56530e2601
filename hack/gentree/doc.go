// Command gentree writes a synthetic spec tree for benchmarks:
// go run ./hack/gentree DIR [N] writes N L3 + N L4 components (default 500).
//
// # Files
//
//   - main.go: writes internal/gentree's tree to a directory
package main
