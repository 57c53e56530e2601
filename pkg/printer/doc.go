// Package printer writes what kcloud's commands produce — vet diagnostics,
// renders, the SSOT tables, diffs and apply events — as text for people,
// Markdown for pull requests, or JSON for machines. It knows nothing of
// clients: it formats the data the other packages return.
//
// # Files
//
//   - bootstrap.go: bootstrap's plan and steps, events, result and restore
//   - bootstrap_progress.go: bootstrap's live lines per node
//   - clean.go: escaping control characters and CI workflow commands
//   - diag.go: diagnostics as text, JSON and GitHub annotations
//   - diff.go: diffs as text, Markdown and JSON
//   - docs.go: the SSOT tables as Markdown
//   - images.go: the images of a plan as a table or JSON
//   - events.go: apply's event lines and summary table
//   - progress.go: apply's live line per stack
//   - render.go: rendered objects as YAML or JSON
//   - status.go: status as text or JSON
package printer
