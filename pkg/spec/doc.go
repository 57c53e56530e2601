// Package spec reads kcloud.dev/v1alpha1 spec trees: every YAML file under the
// given directories becomes CUE with its YAML positions kept, is unified with
// the embedded schema, checked against the SSOT rules and decoded into Go
// types. Every problem is a Diagnostic naming file:line:col; loading never
// stops at the first one.
package spec
