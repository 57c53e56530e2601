package render

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"

	"kcloud.dev/kcloud/pkg/spec"
)

// k3sAPIVersions are the API versions K3s serves beside Kubernetes' own:
// its Helm controller's HelmChart and HelmChartConfig
// (https://github.com/k3s-io/helm-controller/blob/v0.17.7/pkg/apis/helm.cattle.io/v1/types.go)
// and its Addon (https://github.com/k3s-io/api/blob/main/pkg/apis/k3s.cattle.io/v1/types.go).
var k3sAPIVersions = []string{"helm.cattle.io/v1", "helm.cattle.io/v1/HelmChart", "helm.cattle.io/v1/HelmChartConfig", "k3s.cattle.io/v1", "k3s.cattle.io/v1/Addon"}

// capabilities is what charts see as .Capabilities: the Cluster's K3s
// Kubernetes version, and the API versions the built-ins, K3s and the CRDs
// the spec tree writes serve. Computed once per render.
func (r *renderer) capabilities() *common.Capabilities {
	if r.caps != nil {
		return r.caps
	}
	caps := common.DefaultCapabilities.Copy()
	version := clientGoKubeVersion()
	if cl := r.tree.Cluster; cl != nil && cl.K3s.Version != "" {
		version = cl.K3s.Version
	}
	if kv, err := common.ParseKubeVersion(version); err == nil {
		caps.KubeVersion = *kv
	}
	versions := slices.Clone(common.DefaultVersionSet)
	versions = append(versions, k3sAPIVersions...)
	docs := r.treeDocs()
	for _, d := range docs {
		versions = append(versions, crdVersions(d.Object)...)
	}
	slices.Sort(versions)
	caps.APIVersions = slices.Compact(versions)
	r.caps = caps
	return caps
}

// clientGoKubeVersion is the Kubernetes version of the client-go kcloud is
// built with (v0.37.2 → v1.37.2): what a Cluster that names a K3s channel,
// not a version, is taken to run. Helm's own default is v1.20 in tests.
func clientGoKubeVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/client-go" && strings.HasPrefix(d.Version, "v0.") {
				return "v1." + strings.TrimPrefix(d.Version, "v0.")
			}
		}
	}
	return "v1.37.0"
}

// treeDocs are the documents the spec tree writes itself: objects, local
// manifests and the Cluster's local schema sources.
func (r *renderer) treeDocs() []spec.Doc {
	var docs []spec.Doc
	for _, c := range r.tree.Components {
		docs = append(docs, c.Objects...)
		for _, m := range c.Manifests {
			docs = append(docs, m.Docs...)
		}
	}
	if r.tree.Cluster != nil {
		for _, m := range r.tree.Cluster.Schemas {
			docs = append(docs, m.Docs...)
		}
	}
	return docs
}

// crdVersions returns group/version and group/version/Kind for each
// version a CustomResourceDefinition serves; nothing for other objects.
func crdVersions(obj map[string]any) []string {
	if obj["kind"] != "CustomResourceDefinition" {
		return nil
	}
	spec, _ := obj["spec"].(map[string]any)
	group, _ := spec["group"].(string)
	names, _ := spec["names"].(map[string]any)
	kind, _ := names["kind"].(string)
	vs, _ := spec["versions"].([]any)
	var out []string
	for _, v := range vs {
		m, _ := v.(map[string]any)
		if name, _ := m["name"].(string); name != "" && group != "" {
			out = append(out, fmt.Sprintf("%s/%s", group, name), fmt.Sprintf("%s/%s/%s", group, name, kind))
		}
	}
	return out
}
