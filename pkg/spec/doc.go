// Package spec reads kcloud.dev/v1alpha1 spec trees: every YAML file under the
// given directories becomes CUE with its YAML positions kept, is unified with
// the embedded schema, checked against the SSOT rules and decoded into Go
// types. Every problem is a Diagnostic naming file:line:col; loading never
// stops at the first one.
//
// # Files
//
//   - cuedescribe.go: describing CUE types and patterns in messages
//   - cueerr.go: CUE errors as diagnostics at file:line:col
//   - decode.go: files parsed and decoded, on every CPU for large trees (a CUE context per worker)
//   - fieldpos.go: positions of fields in YAML documents
//   - hostvalues.go: rule 10: values that reach K3s flags or SSH
//   - jsonschema.go: JSONSchema: the spec schema for editors
//   - limits.go: rule 15: file limits, checked before decoding
//   - load.go: Load: files to a validated Tree
//   - manifests.go: rule 12: a component's manifests
//   - names.go: metadata names and namespaces of manifest objects
//   - opaque.go: the open parts of documents (inline objects, Helm values, manifests) decoded from their syntax, not through CUE
//   - pos.go: Pos, Diagnostic, Diagnostics
//   - rules.go: rules 1, 2, 4, 5 and 6 on the tree
//   - sops.go: rule 8: sops metadata, plaintext Secrets, ENC[…] values outside sops files, secret references
//   - subst.go: rule 11: substitutions
//   - tables.go: the SSOT tables, read from the schema
//   - types.go: Tree, Cluster, Component
//   - walk.go: walking the spec directories
//   - yaml.go: YAML parsing with a syntax budget
package spec
