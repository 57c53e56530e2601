package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/render"
)

// TestWaves: Namespaces and CRDs come first, then the other objects by
// depends-on level within the write set; what a later wave depends on is
// noted; a cycle does not stop the split.
func TestWaves(t *testing.T) {
	obj := func(kind, name, dependsOn string) item {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind(kind)
		u.SetName(name)
		if kind != "Namespace" && kind != "CustomResourceDefinition" {
			u.SetNamespace("ns")
		}
		if kind == "CustomResourceDefinition" {
			u.SetAPIVersion("apiextensions.k8s.io/v1")
		}
		if dependsOn != "" {
			u.SetAnnotations(map[string]string{"config.kubernetes.io/depends-on": dependsOn})
		}
		return item{obj: render.Object{Unstructured: u}, ref: change.RefOf(u)}
	}
	type got struct {
		Names  []string
		CRDs   bool
		Needed []string
	}
	for _, tc := range []struct {
		name  string
		items []item
		want  []got
	}{
		{"no dependencies: one wave", []item{obj("ConfigMap", "a", ""), obj("Service", "b", "")},
			[]got{{Names: []string{"a", "b"}}}},
		{"namespaces and CRDs first", []item{obj("ConfigMap", "a", ""), obj("Namespace", "ns", ""), obj("CustomResourceDefinition", "x.example.com", "")},
			[]got{{Names: []string{"ns", "x.example.com"}, CRDs: true}, {Names: []string{"a"}}}},
		{"depends-on levels", []item{
			obj("Deployment", "web", "/namespaces/ns/ConfigMap/conf"),
			obj("ConfigMap", "conf", "/namespaces/ns/Secret/token"),
			obj("Secret", "token", ""),
			obj("Service", "svc", "/namespaces/ns/ConfigMap/elsewhere"), // not written: no wait
		}, []got{
			{Names: []string{"token", "svc"}, Needed: []string{"token"}},
			{Names: []string{"conf"}, Needed: []string{"conf"}},
			{Names: []string{"web"}},
		}},
		{"a cycle goes last", []item{
			obj("ConfigMap", "a", "/namespaces/ns/ConfigMap/b"),
			obj("ConfigMap", "b", "/namespaces/ns/ConfigMap/a"),
			obj("ConfigMap", "c", ""),
		}, []got{{Names: []string{"c"}}, {Names: []string{"b"}, Needed: []string{"b"}}, {Names: []string{"a"}, Needed: []string{"a"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []got
			for _, w := range waves(tc.items) {
				g := got{CRDs: w.crds}
				for _, it := range w.items {
					g.Names = append(g.Names, it.ref.Name)
				}
				for _, r := range w.needed {
					g.Needed = append(g.Needed, r.Name)
				}
				out = append(out, g)
			}
			if d := cmp.Diff(tc.want, out); d != "" {
				t.Errorf("waves (-want +got):\n%s", d)
			}
		})
	}
}
