package kube

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/spec"
)

// UnservedError says the cluster serves no such kind. The CLI prints its
// hint, which says why that usually is.
type UnservedError struct {
	GVK  schema.GroupVersionKind
	Host string
}

func (e *UnservedError) Error() string {
	return fmt.Sprintf("kind %s (%s) is not served by the cluster at %s and no CRD in the plan defines it: %s",
		e.GVK.Kind, e.GVK.GroupVersion(), e.Host, Hint(e.GVK.GroupKind()))
}

// ChartInstalled reports whether gk's CRD comes from a Helm chart of the
// plan rather than from the cluster or the plan's own CRDs, per the API
// group table of the schema.
func ChartInstalled(gk schema.GroupKind) bool {
	g, ok := apiGroup(gk.Group)
	return ok && g.FromChart()
}

// Hint says why a kind may not be served.
func Hint(gk schema.GroupKind) string {
	if g, ok := apiGroup(gk.Group); ok {
		return g.Hint
	}
	return "install its CRD first (from a component in an earlier layer) or check the apiVersion"
}

func apiGroup(group string) (spec.APIGroup, bool) {
	tabs, err := spec.LoadTables()
	if err != nil {
		return spec.APIGroup{}, false
	}
	g, ok := tabs.APIGroups[group]
	return g, ok
}

// Mapping returns the REST mapping of gvk. A kind the cluster does not serve
// is an *UnservedError.
func (c *Clients) Mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return nil, &UnservedError{GVK: gvk, Host: c.Host}
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", gvk.Kind, gvk.GroupVersion(), err)
	}
	return m, nil
}

// IsUnserved reports whether err is an *UnservedError.
func IsUnserved(err error) bool {
	var u *UnservedError
	return errors.As(err, &u)
}
