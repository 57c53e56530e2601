// Package change is kcloud's vocabulary for what happens to objects: one
// reference type (Ref) that every package names an object with, the
// actions a plan holds and an apply carries out (Action), why an object
// cannot be applied as planned (Conflict), and one summary per stack
// (Summary) shared by diff and apply. How an apply's step ended (Outcome)
// is pkg/apply's, in event.go. cli-utils' object.ObjMetadata is converted
// to and from Ref at the calls into cli-utils only. It knows nothing of
// clients.
//
// # Files
//
//   - change.go: Ref, Action, Conflict, Summary; conversions to and from cli-utils' ObjMetadata
package change
