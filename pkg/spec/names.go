package spec

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
)

// pathSegmentKinds are the kinds whose names Kubernetes only requires to
// be a path segment (RBAC: "system:aggregate-to-view" is a real name):
// ValidateRBACName in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/rbac/validation/validation.go
var pathSegmentKinds = map[string]bool{"Role": true, "ClusterRole": true, "RoleBinding": true, "ClusterRoleBinding": true}

// checkObjectMeta checks the metadata.name and metadata.namespace of a
// manifest's object the way the schema checks inline objects, positioned
// where each is written.
func checkObjectMeta(d document, obj map[string]any, file string, diags *Diagnostics) {
	metaExpr := fieldValue(d.expr, "metadata")
	at := func(field string) Pos {
		if e := fieldValue(metaExpr, field); e != nil {
			return toPos(e.Pos(), file)
		}
		if metaExpr != nil {
			return toPos(metaExpr.Pos(), file)
		}
		return d.pos
	}
	md, _ := obj["metadata"].(map[string]any)
	if md == nil || md["name"] == nil {
		diags.errorf(d.pos, "object has no metadata.name")
		return
	}
	kind, _ := obj["kind"].(string)
	name, ok := md["name"].(string)
	switch {
	case !ok:
		diags.errorf(at("name"), "metadata.name must be a string, not %s", describe(md["name"]))
	case pathSegmentKinds[kind]:
		errs := content.IsPathSegmentName(name)
		if name == "" || len(name) > 253 {
			errs = append(errs, "must be 1 to 253 characters")
		}
		if len(errs) > 0 {
			diags.errorf(at("name"), "metadata.name %q of a %s is not a valid name: %s", truncate(name), kind, strings.Join(errs, "; "))
		}
	default:
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			diags.errorf(at("name"), "metadata.name %q is not a valid name: %s", truncate(name), strings.Join(errs, "; "))
		}
	}
	if v, present := md["namespace"]; present {
		ns, ok := v.(string)
		if !ok || len(validation.IsDNS1123Label(ns)) > 0 {
			diags.errorf(at("namespace"), "metadata.namespace %s is not a valid namespace (an RFC 1123 label)", describe(v))
		}
	}
}

// truncate shortens a long name for a message.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}
