package ssa_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/ssa"
)

// BenchmarkApplyUnchanged is the CPU cost of proving one object unchanged
// (no API server: the live object is made by the same merge).
func BenchmarkApplyUnchanged(b *testing.B) {
	for _, tc := range []struct {
		name     string
		resource schema.GroupResource
		obj      map[string]any
	}{
		{"ConfigMap", schema.GroupResource{Resource: "configmaps"}, typed("v1", "ConfigMap", "metadata", m("name", "x", "namespace", "ns", "labels", m("app", "a")), "data", m("a", "1", "b", "2"))},
		{"Deployment", schema.GroupResource{Group: "apps", Resource: "deployments"}, typed("apps/v1", "Deployment", "metadata", m("name", "x", "namespace", "ns"), "spec", m(
			"replicas", int64(1), "selector", m("matchLabels", m("app", "a")),
			"template", m("metadata", m("labels", m("app", "a")), "spec", m("containers", []any{m("name", "app", "image", "img:1", "resources", m("limits", m("cpu", "500m")))}))))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			mg := ssa.NewMerger(ssa.Options{})
			planned := &unstructured.Unstructured{Object: tc.obj}
			empty := &unstructured.Unstructured{}
			empty.SetGroupVersionKind(planned.GroupVersionKind())
			empty.SetName("x")
			empty.SetNamespace("ns")
			first := mg.Apply(tc.resource, empty, planned, kube.FieldManager)
			if first.Merged == nil {
				b.Fatalf("first apply: %+v", first)
			}
			live := first.Merged
			if r := mg.Apply(tc.resource, live, planned, kube.FieldManager); r.Verdict != ssa.Unchanged {
				b.Fatalf("verdict %v: %s", r.Verdict, r.Reason)
			}
			for b.Loop() {
				mg.Apply(tc.resource, live, planned, kube.FieldManager)
			}
		})
	}
}
