// Package change is kcloud's vocabulary for what happens to objects: one
// reference type (Ref), the actions a plan holds and an apply carries out
// (Action), why an object cannot be applied as planned (Conflict), and one
// summary per stack (Summary) shared by diff and apply. How an apply's
// action ended (Outcome) is pkg/apply's (event.go). It knows nothing of
// clients.
//
// # Files
//
//   - change.go: Ref, Action, Conflict, Summary
package change
