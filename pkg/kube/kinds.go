package kube

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// FieldManager is the server-side apply field manager of kcloud.
const FieldManager = "kcloud"

// DefaultWorkers bounds the requests in flight of bulk work (dry runs,
// health checks).
const DefaultWorkers = 16

// UnservedError says the cluster serves no such kind. Hint says why that
// usually is.
type UnservedError struct {
	GVK  schema.GroupVersionKind
	Host string
	Hint string
}

func (e *UnservedError) Error() string {
	return fmt.Sprintf("kind %s (%s) is not served by the cluster at %s and no CRD in the plan defines it: %s",
		e.GVK.Kind, e.GVK.GroupVersion(), e.Host, e.Hint)
}

// Mapping returns the REST mapping of gvk. A kind the cluster does not serve
// is an *UnservedError.
func (c *Clients) Mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		hint := "install its CRD first (from a component in an earlier layer) or check the apiVersion"
		if c.hint != nil {
			hint = c.hint(gvk.Group)
		}
		return nil, &UnservedError{GVK: gvk, Host: c.Host, Hint: hint}
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
