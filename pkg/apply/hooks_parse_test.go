package apply

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/render"
)

func hookObject(name string, annotations map[string]string) render.Object {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
	u.SetName(name)
	u.SetAnnotations(annotations)
	return render.Object{Unstructured: u, Component: "pg", Template: "postgresql/templates/" + name + ".yaml"}
}

// TestParseHook: events, weight and delete policies as Helm reads them;
// before-hook-creation when no policy is given; test hooks run on no
// event; what kcloud cannot run is an error naming the template.
func TestParseHook(t *testing.T) {
	type parsed struct {
		Events, Policies []string
		Weight           int
	}
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		want        parsed
		err         string
	}{
		{name: "defaults", annotations: map[string]string{"helm.sh/hook": "pre-install"},
			want: parsed{Events: []string{"pre-install"}, Policies: []string{"before-hook-creation"}}},
		{name: "several", annotations: map[string]string{"helm.sh/hook": " pre-install, pre-upgrade ", "helm.sh/hook-weight": "-5", "helm.sh/hook-delete-policy": "hook-succeeded,hook-failed"},
			want: parsed{Events: []string{"pre-install", "pre-upgrade"}, Policies: []string{"hook-succeeded", "hook-failed"}, Weight: -5}},
		{name: "test", annotations: map[string]string{"helm.sh/hook": "test"},
			want: parsed{Policies: []string{"before-hook-creation"}}},
		{name: "pre-delete", annotations: map[string]string{"helm.sh/hook": "pre-install,pre-delete"},
			err: "chart template postgresql/templates/pre-delete.yaml (component pg): pre-delete hook pre-delete: kcloud runs only"},
		{name: "weight", annotations: map[string]string{"helm.sh/hook": "post-install", "helm.sh/hook-weight": "high"},
			err: `helm.sh/hook-weight "high" is not an integer`},
		{name: "policy", annotations: map[string]string{"helm.sh/hook": "post-install", "helm.sh/hook-delete-policy": "never"},
			err: `unknown helm.sh/hook-delete-policy "never"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseHook(hookObject(tc.name, tc.annotations))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, parsed{Events: h.events, Policies: h.policies, Weight: h.weight}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestHooksFor: the hooks of the changing components' event, by weight
// then name.
func TestHooksFor(t *testing.T) {
	var hooks []hook
	for _, a := range []struct{ name, events, weight, component string }{
		{"c", "pre-install", "0", "pg"}, {"b", "pre-install,pre-upgrade", "0", "pg"}, {"a", "pre-install", "1", "pg"},
		{"z", "pre-install", "-1", "pg"}, {"post", "post-install", "0", "pg"}, {"other", "pre-install", "-9", "redis"},
		{"up", "pre-upgrade", "0", "redis"},
	} {
		o := hookObject(a.name, map[string]string{"helm.sh/hook": a.events, "helm.sh/hook-weight": a.weight})
		o.Component = a.component
		h, err := parseHook(o)
		if err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, h)
	}
	event := func(c string) string { return map[string]string{"pg": "install", "redis": "upgrade"}[c] }
	var got []string
	for _, h := range hooksFor(hooks, event, true) {
		got = append(got, h.GetName())
	}
	if diff := cmp.Diff([]string{"z", "b", "c", "up", "a"}, got); diff != "" {
		t.Errorf("pre hooks (-want +got):\n%s", diff)
	}
}
