package validate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utilversion "k8s.io/apimachinery/pkg/util/version"

	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/ssa"
)

// DefaultKubernetes is the Kubernetes minor version served versions are
// judged against when the Cluster names a K3s channel rather than a
// version: the version kcloud is built and tested with (k8s.io/api
// v0.37.2, the test control plane v1.37.2).
var DefaultKubernetes = utilversion.MajorMinor(1, 37)

// The methods k8s.io/api generates for every prerelease type from its
// +k8s:prerelease-lifecycle-gen tags (zz_generated.prerelease-lifecycle.go
// in each group version, e.g.
// https://github.com/kubernetes/api/blob/v0.37.2/apps/v1beta1/zz_generated.prerelease-lifecycle.go);
// the API server stops serving a type at its APILifecycleRemoved release
// (k8s.io/apiserver pkg/util/openapi and pkg/server/deleted_kinds.go).
type (
	lifecycleIntroduced interface{ APILifecycleIntroduced() (int, int) }
	lifecycleDeprecated interface{ APILifecycleDeprecated() (int, int) }
	lifecycleRemoved    interface{ APILifecycleRemoved() (int, int) }
	lifecycleReplaced   interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}
)

// kubernetesVersion is the Kubernetes version of the plan's Cluster: its
// K3s version (v1.37.2+k3s1 runs Kubernetes 1.37.2), or DefaultKubernetes
// for a channel or a plan without a Cluster.
func kubernetesVersion(res *render.Result) *utilversion.Version {
	if res.Cluster == nil || res.Cluster.K3s.Version == "" {
		return DefaultKubernetes
	}
	v, err := utilversion.ParseGeneric(strings.SplitN(res.Cluster.K3s.Version, "+", 2)[0])
	if err != nil {
		return DefaultKubernetes
	}
	return utilversion.MajorMinor(v.Major(), v.Minor())
}

// servedError says why a built-in kind's version is not served by
// Kubernetes kube, or "" when it is; warning is set for a deprecated
// version that is still served.
func servedError(gvk schema.GroupVersionKind, kube *utilversion.Version) (msg string, warning bool) {
	obj, ok := newBuiltin(gvk)
	if !ok {
		return "", false
	}
	if strings.Contains(gvk.Version, "alpha") {
		// Alpha versions are off unless --runtime-config turns them on, which
		// a Cluster cannot ask for:
		// https://kubernetes.io/docs/reference/using-api/#api-versioning
		return fmt.Sprintf("%s is an alpha API version: Kubernetes serves alpha versions only when the API server is started with --runtime-config for them", gvk.GroupVersion()), false
	}
	at := func(major, minor int) *utilversion.Version { return utilversion.MajorMinor(uint(major), uint(minor)) }
	if l, ok := obj.(lifecycleRemoved); ok {
		if maj, min := l.APILifecycleRemoved(); maj > 0 && !kube.LessThan(at(maj, min)) {
			return fmt.Sprintf("%s %s is no longer served since Kubernetes %d.%d (the Cluster runs %s)%s", gvk.GroupVersion(), gvk.Kind, maj, min, kube, replacement(obj)), false
		}
	}
	if l, ok := obj.(lifecycleIntroduced); ok {
		if maj, min := l.APILifecycleIntroduced(); maj > 0 && kube.LessThan(at(maj, min)) {
			return fmt.Sprintf("%s %s is served from Kubernetes %d.%d on; the Cluster runs %s", gvk.GroupVersion(), gvk.Kind, maj, min, kube), false
		}
	}
	if l, ok := obj.(lifecycleDeprecated); ok {
		if maj, min := l.APILifecycleDeprecated(); maj > 0 && !kube.LessThan(at(maj, min)) {
			return fmt.Sprintf("%s %s is deprecated since Kubernetes %d.%d%s", gvk.GroupVersion(), gvk.Kind, maj, min, replacement(obj)), true
		}
	}
	return "", false
}

// replacement names the version that replaces a prerelease type.
func replacement(obj any) string {
	if l, ok := obj.(lifecycleReplaced); ok {
		if r := l.APILifecycleReplacement(); !r.Empty() {
			return fmt.Sprintf(": use %s %s", r.GroupVersion(), r.Kind)
		}
	}
	return ": it has no replacement"
}

// newBuiltin returns a new object of a built-in kind.
func newBuiltin(gvk schema.GroupVersionKind) (any, bool) {
	for _, c := range ssa.Builtins() {
		if obj, err := c.Scheme.New(gvk); err == nil {
			return obj, true
		}
	}
	return nil, false
}

// builtinGroup reports whether group is one only Kubernetes itself serves:
// the core group and every group without a dot (a CRD's group must hold
// one: ValidateCustomResourceDefinitionSpec in
// https://github.com/kubernetes/apiextensions-apiserver/blob/v0.37.2/pkg/apis/apiextensions/validation/validation.go),
// and every *.k8s.io group k8s.io/api defines.
func builtinGroup(group string) bool {
	if !strings.Contains(group, ".") {
		return true
	}
	if !strings.HasSuffix(group, ".k8s.io") {
		return false
	}
	for _, c := range ssa.Builtins() {
		if c.Scheme.IsGroupRegistered(group) {
			return true
		}
	}
	return false
}

// unknownKind is the error for a kind no schema knows in a built-in group:
// no CRD can add one.
func unknownKind(gvk schema.GroupVersionKind, kube *utilversion.Version) string {
	var served []string
	for _, c := range ssa.Builtins() {
		for _, gv := range c.Scheme.VersionsForGroupKind(gvk.GroupKind()) {
			if gv.Version == "__internal" {
				continue
			}
			if msg, _ := servedError(gv.WithKind(gvk.Kind), kube); msg == "" {
				served = append(served, gv.String())
			}
		}
	}
	if len(served) > 0 {
		return fmt.Sprintf("kind %s is not served in %s by Kubernetes %s: use %s", gvk.Kind, gvk.GroupVersion(), kube, strings.Join(served, " or "))
	}
	return fmt.Sprintf("kind %s (%s) does not exist in Kubernetes %s: %s is a built-in API group, so no CustomResourceDefinition can add it", gvk.Kind, gvk.GroupVersion(), kube, groupName(gvk.Group))
}

func groupName(g string) string {
	if g == "" {
		return "the core group"
	}
	return g
}
