// Package status reports, read-only, each stack's inventory, the health of
// the objects it lists, its drift from the plan, whether the StorageClasses
// K3s owns match the table, and whether an apply holds the lock.
//
// # Files
//
//   - status.go: Run: the report per stack
//   - storageclass.go: K3s's StorageClasses against the table
package status
