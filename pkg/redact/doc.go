// Package redact keeps Secret values out of everything kcloud prints:
// MaskSecrets masks them in structured objects (diffs, status), and a
// Redactor hides the values it learned in free text (errors, log lines).
//
// # Files
//
//   - mask.go: MaskSecrets: Secret values in structured objects
//   - redact.go: Redactor: learned values in free text
package redact
