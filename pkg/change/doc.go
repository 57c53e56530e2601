// Package change is kcloud's vocabulary for what happens to objects: one
// reference type (Ref), the actions a plan holds and an apply carries out
// (Action), how an action ended (Outcome), why an object cannot be applied
// as planned (Conflict), and one summary per stack (Summary) shared by diff
// and apply. It knows nothing of clients.
package change
