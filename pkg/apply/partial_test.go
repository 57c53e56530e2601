package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
)

func TestPartition(t *testing.T) {
	cm := func(name string, anns map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
		u.SetName(name)
		u.SetNamespace("ns")
		u.SetAnnotations(anns)
		return u
	}
	dependsOn := func(name string) map[string]string {
		return map[string]string{"config.kubernetes.io/depends-on": "/namespaces/ns/ConfigMap/" + name}
	}
	ch := func(name string, a change.Action, before *unstructured.Unstructured) diff.Change {
		return diff.Change{Action: a, Ref: change.Ref{GroupKind: schema.GroupKind{Kind: "ConfigMap"}, Namespace: "ns", Name: name}, Version: "v1", Before: before}
	}
	names := func(objs []*unstructured.Unstructured) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.GetName())
		}
		return out
	}
	keepNames := func(ids []change.Ref) []string {
		var out []string
		for _, id := range ids {
			out = append(out, id.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		objs      []*unstructured.Unstructured
		changes   []diff.Change
		wantApply []string
		wantKeep  []string
	}{
		{
			name:     "nothing changed: nothing to apply",
			objs:     []*unstructured.Unstructured{cm("a", nil), cm("b", nil)},
			changes:  []diff.Change{ch("a", change.Unchanged, nil), ch("b", change.Unchanged, nil)},
			wantKeep: []string{"a", "b"},
		},
		{
			name:      "a change is applied, the rest kept",
			objs:      []*unstructured.Unstructured{cm("a", nil), cm("b", nil), cm("c", nil)},
			changes:   []diff.Change{ch("a", change.Unchanged, nil), ch("b", change.Update, nil), ch("c", change.Unchanged, nil)},
			wantApply: []string{"b"},
			wantKeep:  []string{"a", "c"},
		},
		{
			name:      "what a change depends on is applied with it, transitively",
			objs:      []*unstructured.Unstructured{cm("a", nil), cm("b", dependsOn("a")), cm("c", dependsOn("b")), cm("d", nil)},
			changes:   []diff.Change{ch("a", change.Unchanged, nil), ch("b", change.Unchanged, nil), ch("c", change.Create, nil), ch("d", change.Unchanged, nil)},
			wantApply: []string{"a", "b", "c"},
			wantKeep:  []string{"d"},
		},
		{
			name:      "what an object to prune depends on is in the set",
			objs:      []*unstructured.Unstructured{cm("a", nil), cm("b", nil)},
			changes:   []diff.Change{ch("a", change.Unchanged, nil), ch("b", change.Unchanged, nil), ch("gone", change.Delete, cm("gone", dependsOn("a")))},
			wantApply: []string{"a"},
			wantKeep:  []string{"b"},
		},
		{
			name:      "apply-time mutations: everything goes to cli-utils",
			objs:      []*unstructured.Unstructured{cm("a", map[string]string{"config.kubernetes.io/apply-time-mutation": "[]"}), cm("b", nil)},
			changes:   []diff.Change{ch("a", change.Unchanged, nil), ch("b", change.Unchanged, nil)},
			wantApply: []string{"a", "b"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apply, keep := partition(tc.objs, tc.changes)
			if d := cmp.Diff(tc.wantApply, names(apply)); d != "" {
				t.Errorf("applied (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantKeep, keepNames(keep)); d != "" {
				t.Errorf("kept (-want +got):\n%s", d)
			}
		})
	}
}
