// Package diff says what an apply would change, without changing anything:
// every rendered object is server-side-applied as a dry run (field manager
// kcloud, the same inventory annotation the apply writes) and compared with
// the live object, both normalised; objects a stack's inventory lists and
// the plan no longer renders are the prune preview. It returns data
// ([]Change) and prints nothing. Secret values are masked before anything
// leaves the package.
package diff
