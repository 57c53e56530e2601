// Package printer writes what kcloud's commands produce — vet diagnostics,
// renders, the SSOT tables, diffs and apply events — as text for people,
// Markdown for pull requests, or JSON for machines. It knows nothing of
// clients: it formats the data the other packages return.
package printer
