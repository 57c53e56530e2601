// Package ssa decides on the client what a server-side apply would
// change: the API server's own field manager merges a planned object into
// the live one read by LIST, so an object proven unchanged needs neither a
// dry run nor an apply, and a diff needs no write permission. Whatever the
// merge cannot decide exactly (mutating admission, kinds without merge
// types) is left to the server.
package ssa
