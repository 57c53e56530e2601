// Package validate checks rendered objects offline the way the API server
// would: served API versions for the Cluster's Kubernetes version (from
// k8s.io/api's lifecycle data), kinds of built-in groups, metadata (with
// apimachinery's own validation), Kubernetes' field rules for the common
// kinds, and the schema of each kind: built-in kinds against the server-side-apply schemas
// client-go carries, custom resources against the openAPIV3Schema of their
// CustomResourceDefinition (from the plan, from the cluster when one is
// given, from the spec tree's schema sources, or K3s's own from
// helm-controller's module). Every problem is a diagnostic at the
// file:line:col of the offending field. It makes no API calls; reading a
// cluster's CRDs is a separate function the caller chooses to use.
//
// # Files
//
//   - builtin.go: checks against client-go's built-in schemas, quantities
//   - cluster.go: ClusterCRDs: the cluster's CRDs, read on request
//   - crd.go: checks against a CRD's openAPIV3Schema
//   - fielderr.go: apimachinery's field errors as placed errors; helpers
//   - k3s.go: K3s's CRDs from helm-controller's module
//   - meta.go: metadata: names by kind, labels, annotations, owners, finalizers
//   - others.go: rules of PVCs, ConfigMaps, Secrets, RBAC, HPAs, PDBs
//   - pods.go: rules of pod specs and templates
//   - rules.go: checkFields: which rules each built-in kind gets
//   - schemas.go: Schemas: which schema each kind gets
//   - served.go: served API versions and built-in groups
//   - services.go: rules of Services, Ingresses, NetworkPolicies
//   - validate.go: Check: every rendered object; Locate
//   - workloads.go: rules of Deployments, StatefulSets, Jobs, CronJobs
package validate
