// Package ssa decides on the client what a server-side apply would
// change: the API server's own field manager merges a planned object into
// the live one read by LIST, so an object proven unchanged needs neither a
// dry run nor an apply, and a diff needs no write permission. Whatever the
// merge cannot decide exactly (mutating admission, kinds without merge
// types) is left to the server.
//
// # Files
//
//   - admission.go: mutating webhooks and policies that rule out a local verdict
//   - builtin.go: the built-in kinds' types, read once from types/ (client-go's and apiextensions-apiserver's schemas, parsed); the types a kind is applied with (Types)
//   - convert.go: the object converter the field manager needs
//   - crd.go: merge types of custom resources from their CRDs
//   - fast.go: the fast proof: recorded fields hold the planned values; the cheap sign of a change that spares it
//   - ssa.go: Merger: the field manager's merge and its Verdict
package ssa
