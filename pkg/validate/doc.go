// Package validate checks rendered objects against the schema of their
// kind, offline: built-in kinds against the server-side-apply schemas
// client-go carries, custom resources against the openAPIV3Schema of their
// CustomResourceDefinition (from the plan, from the cluster when one is
// given, from the spec tree's schema sources, or K3s's own from
// helm-controller's module). Every problem is a diagnostic at the
// file:line:col of the offending field. It makes no API calls; reading a
// cluster's CRDs is a separate function the caller chooses to use.
//
// # Files
//
//   - builtin.go: checks against client-go's built-in schemas
//   - cluster.go: ClusterCRDs: the cluster's CRDs, read on request
//   - crd.go: checks against a CRD's openAPIV3Schema
//   - k3s.go: K3s's CRDs from helm-controller's module
//   - schemas.go: Schemas: which schema each kind gets
//   - validate.go: Check: every rendered object; Locate
package validate
