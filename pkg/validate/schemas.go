package validate

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilversion "k8s.io/apimachinery/pkg/util/version"
)

// Schemas knows the schema of every kind it can check. Each schema is
// compiled once, whatever the number of objects of its kind.
type Schemas struct {
	builtin map[schema.GroupVersionKind]*builtinType
	crds    map[schema.GroupVersionKind]*crdType
	// served caches servedError's verdict per kind.
	served map[schema.GroupVersionKind]verdict
}

// verdict is whether a kind's version is served: msg is "" when it is.
type verdict struct {
	msg     string
	warning bool
}

// NewSchemas returns the built-in kinds' schemas and K3s's own CRDs; add
// the plan's and the cluster's CRDs with AddCRD.
func NewSchemas() (*Schemas, error) {
	s := &Schemas{builtin: map[schema.GroupVersionKind]*builtinType{}, crds: map[schema.GroupVersionKind]*crdType{},
		served: map[schema.GroupVersionKind]verdict{}}
	k3s, err := K3sCRDs()
	if err != nil {
		return nil, err
	}
	for _, crd := range k3s {
		if err := s.AddCRD(crd, SourceK3s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AddCRD compiles the schema of every version of crd; it replaces what an
// earlier CRD said about the same kinds. source says where crd came from
// (a file:line, "the cluster"), for messages.
func (s *Schemas) AddCRD(crd *apiextensionsv1.CustomResourceDefinition, source string) error {
	types, err := compileCRD(crd, source)
	if err != nil {
		return err
	}
	for gvk, t := range types {
		s.crds[gvk] = t
	}
	return nil
}

// has reports whether gvk has a schema, and compiles a built-in one.
func (s *Schemas) lookup(gvk schema.GroupVersionKind) (checker, bool) {
	if t, ok := s.crds[gvk]; ok {
		return t, true
	}
	if t, ok := s.builtin[gvk]; ok {
		return t, t != nil
	}
	t, ok := lookupBuiltin(gvk)
	s.builtin[gvk] = t
	return t, ok
}

// servedOf is whether gvk's version is served in Kubernetes kube,
// worked out once per kind.
func (s *Schemas) servedOf(gvk schema.GroupVersionKind, kube *utilversion.Version) verdict {
	v, seen := s.served[gvk]
	if !seen {
		v.msg, v.warning = servedError(gvk, kube)
		s.served[gvk] = v
	}
	return v
}

// checker checks one object of a kind.
type checker interface {
	check(obj map[string]any) []fieldError
}

var (
	_ checker = (*builtinType)(nil)
	_ checker = (*crdType)(nil)
)

// fieldError is one problem at a path of an object; for an unknown or a
// missing field the path ends in the field's name.
type fieldError struct {
	path []string
	// name is the path as the API server writes it, when it differs from
	// what pathString makes of path (a map key with dots).
	name string
	msg  string
}

// SourceK3s is the source of the CRDs K3s's Helm controller serves.
const SourceK3s = "K3s (github.com/k3s-io/helm-controller)"
