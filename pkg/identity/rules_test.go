package identity

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/render"
)

func obj(apiVersion, kind string, fields map[string]any) render.Object {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": "x"}}}
	for k, v := range fields {
		u.Object[k] = v
	}
	return render.Object{Unstructured: u}
}

func TestForPlan(t *testing.T) {
	kinds := []struct {
		gv       schema.GroupVersion
		kind     string
		resource string
	}{
		{schema.GroupVersion{Version: "v1"}, "ConfigMap", "configmaps"},
		{schema.GroupVersion{Version: "v1"}, "Namespace", "namespaces"},
		{schema.GroupVersion{Group: "apps", Version: "v1"}, "Deployment", "deployments"},
		{schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: "v1"}, "Role", "roles"},
		{schema.GroupVersion{Group: "apiextensions.k8s.io", Version: "v1"}, "CustomResourceDefinition", "customresourcedefinitions"},
	}
	var gvs []schema.GroupVersion
	for _, k := range kinds {
		gvs = append(gvs, k.gv)
	}
	// Like discovery's mapper, it maps a kind named without a version.
	mapper := meta.NewDefaultRESTMapper(gvs)
	for _, k := range kinds {
		mapper.AddSpecific(k.gv.WithKind(k.kind), k.gv.WithResource(k.resource), k.gv.WithResource(strings.ToLower(k.kind)), meta.RESTScopeNamespace)
	}
	crd := obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", map[string]any{"spec": map[string]any{
		"group": "example.com", "names": map[string]any{"kind": "Widget", "plural": "widgets"},
	}})
	for _, tc := range []struct {
		name      string
		objs      []render.Object
		extra     []schema.GroupKind
		wantApply []rbacv1.PolicyRule
		warnings  int
	}{
		{
			name:  "served kinds and an inventory's kind",
			objs:  []render.Object{obj("v1", "ConfigMap", nil), obj("apps/v1", "Deployment", nil)},
			extra: []schema.GroupKind{{Kind: "Namespace"}},
			wantApply: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"configmaps", "namespaces"}, Verbs: WriteVerbs},
				{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: WriteVerbs},
			},
		},
		{
			name: "a kind the plan's CRD defines, and one a chart installs",
			objs: []render.Object{crd, obj("example.com/v1", "Widget", nil), obj("cert-manager.io/v1", "ClusterIssuer", nil)},
			wantApply: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: WriteVerbs},
				{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: WriteVerbs},
				{APIGroups: []string{"cert-manager.io"}, Resources: []string{"*"}, Verbs: WriteVerbs},
				{APIGroups: []string{"example.com"}, Resources: []string{"widgets"}, Verbs: WriteVerbs},
			},
			warnings: 1,
		},
		{
			name: "RBAC objects need bind and escalate",
			objs: []render.Object{obj("rbac.authorization.k8s.io/v1", "Role", nil)},
			wantApply: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: WriteVerbs},
				{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles"}, Verbs: WriteVerbs},
				{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "roles"}, Verbs: []string{"bind", "escalate"}},
			},
			warnings: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := &render.Result{Stacks: []render.Stack{{Name: "l1", Objects: tc.objs}}}
			r, err := ForPlan(plan, tc.extra, mapper)
			if err != nil {
				t.Fatal(err)
			}
			health := len(healthReadsRules())
			if d := cmp.Diff(tc.wantApply, r.Apply[:len(r.Apply)-health]); d != "" {
				t.Errorf("apply rules (-want +got):\n%s", d)
			}
			for i, rule := range r.Read {
				if d := cmp.Diff(ReadVerbs, rule.Verbs); d != "" || slicesContainAny(rule.Verbs, "create", "update", "patch", "delete") {
					t.Errorf("read rule %d writes: %v", i, rule.Verbs)
				}
			}
			// Both plan with the cluster's CRDs and mutating admission.
			for _, gr := range clusterReads {
				if !slices.ContainsFunc(r.Read, func(p rbacv1.PolicyRule) bool {
					return slices.Contains(p.APIGroups, gr.Group) && slices.Contains(p.Resources, gr.Resource)
				}) {
					t.Errorf("read rules lack %s", gr)
				}
			}
			if len(r.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", r.Warnings, tc.warnings)
			}
		})
	}
}

func healthReadsRules() []rbacv1.PolicyRule {
	m := map[string]map[string]bool{}
	for _, gr := range slices.Concat(healthReads, clusterReads) {
		if m[gr.Group] == nil {
			m[gr.Group] = map[string]bool{}
		}
		m[gr.Group][gr.Resource] = true
	}
	return groupRules(m, ReadVerbs)
}

func slicesContainAny(s []string, vs ...string) bool {
	for _, v := range vs {
		for _, x := range s {
			if x == v {
				return true
			}
		}
	}
	return false
}
