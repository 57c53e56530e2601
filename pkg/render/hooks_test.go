package render_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/render"
)

// TestWithoutHooks: hooks leave the plan's stacks, selected or not; the
// plan given is not changed.
func TestWithoutHooks(t *testing.T) {
	obj := func(name string, hook bool) render.Object {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
		u.SetName(name)
		if hook {
			u.SetAnnotations(map[string]string{"helm.sh/hook": "pre-install"})
		}
		return render.Object{Unstructured: u}
	}
	names := func(stacks []render.Stack) [][]string {
		var out [][]string
		for _, s := range stacks {
			var n []string
			for _, o := range s.Objects {
				n = append(n, o.GetName())
			}
			out = append(out, n)
		}
		return out
	}
	plan := &render.Result{
		Stacks: []render.Stack{{Name: "l2", Objects: []render.Object{obj("a", false), obj("h1", true), obj("b", false)}}},
		Others: []render.Stack{{Name: "l3-prod", Objects: []render.Object{obj("h2", true), obj("c", false)}}},
	}
	got := plan.WithoutHooks()
	if diff := cmp.Diff([][]string{{"a", "b"}}, names(got.Stacks)); diff != "" {
		t.Errorf("stacks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"c"}}, names(got.Others)); diff != "" {
		t.Errorf("others (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"a", "h1", "b"}}, names(plan.Stacks)); diff != "" {
		t.Errorf("the plan given changed (-want +got):\n%s", diff)
	}
}
