package identity

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	rbacv1 "k8s.io/api/rbac/v1"

	"kcloud.dev/kcloud/pkg/render"
)

// Verbs of the two identities. Server-side apply is a patch; pruning and
// destroy delete; health waits list and watch.
var (
	WriteVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	ReadVerbs  = []string{"get", "list", "watch"}
)

// healthReads are what apply's health checks read besides the plan's own
// objects: cli-utils' status readers follow Deployments to ReplicaSets and
// Pods, StatefulSets and ReplicaSets to Pods
// (sigs.k8s.io/cli-utils pkg/kstatus/polling/statusreaders), and the
// HelmChart check reads its install Job.
var healthReads = []schema.GroupResource{
	{Group: "", Resource: "pods"},
	{Group: "apps", Resource: "replicasets"},
	{Group: "batch", Resource: "jobs"},
}

// clusterReads are what both identities read to plan: the cluster's CRDs
// (schemas of custom resources) and its mutating admission (which objects
// the client-side merge cannot prove unchanged).
var clusterReads = []schema.GroupResource{
	{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
	{Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"},
	{Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicies"},
}

// Rules are the cluster-wide rules of both identities and what could not
// be narrowed.
type Rules struct {
	// Apply and Read are ClusterRole rules.
	Apply, Read []rbacv1.PolicyRule
	// Warnings say where a rule is wider than one resource: a kind whose
	// CRD a chart installs later (all resources of its group), RBAC objects
	// in the plan (escalate and bind).
	Warnings []string
}

// ForPlan returns the rules for the plan's objects and extra, the kinds
// the stacks' inventories list (pruning deletes them). Kinds the mapper
// does not serve are resolved from the plan's CRDs, or else granted for
// their whole group with a warning.
func ForPlan(plan *render.Result, extra []schema.GroupKind, mapper meta.RESTMapper) (Rules, error) {
	var r Rules
	plurals := crdPlurals(plan)
	write := map[string]map[string]bool{} // group → resources
	add := func(group, resource string) {
		if write[group] == nil {
			write[group] = map[string]bool{}
		}
		write[group][resource] = true
	}
	kinds := map[schema.GroupKind][]string{} // the versions the plan names
	for _, o := range plan.Objects() {
		gvk := o.GroupVersionKind()
		kinds[gvk.GroupKind()] = append(kinds[gvk.GroupKind()], gvk.Version)
	}
	for _, gk := range extra {
		if _, ok := kinds[gk]; !ok {
			kinds[gk] = nil
		}
	}
	for _, gk := range sortedKinds(kinds) {
		m, err := mapper.RESTMapping(gk, kinds[gk]...)
		switch {
		case err == nil:
			add(gk.Group, m.Resource.Resource)
		case !meta.IsNoMatchError(err):
			return Rules{}, fmt.Errorf("identity: %s: %w", gk, err)
		case plurals[gk] != "":
			add(gk.Group, plurals[gk])
		default:
			add(gk.Group, "*")
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s is not served yet (a chart installs its CRD): every resource of group %q is granted; run identities again once it is served", gk, gk.Group))
		}
	}
	add("", "namespaces") // diff and apply look namespaces up
	r.Apply = groupRules(write, WriteVerbs)
	if rbac := write[rbacv1.GroupName]; rbac["roles"] || rbac["clusterroles"] || rbac["rolebindings"] || rbac["clusterrolebindings"] {
		r.Apply = append(r.Apply, rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles", "roles"}, Verbs: []string{"bind", "escalate"}})
		r.Warnings = append(r.Warnings, "the plan writes RBAC objects: the apply identity may bind and escalate roles, which makes it as strong as any role it can write")
	}
	read := map[string]map[string]bool{}
	for g, rs := range write {
		read[g] = maps.Clone(rs)
	}
	health := map[string]map[string]bool{}
	for _, gr := range slices.Concat(healthReads, clusterReads) {
		if health[gr.Group] == nil {
			health[gr.Group] = map[string]bool{}
		}
		health[gr.Group][gr.Resource] = true
		if !slices.Contains(healthReads, gr) {
			if read[gr.Group] == nil {
				read[gr.Group] = map[string]bool{}
			}
			read[gr.Group][gr.Resource] = true
		}
	}
	r.Apply = append(r.Apply, groupRules(health, ReadVerbs)...)
	r.Read = groupRules(read, ReadVerbs)
	return r, nil
}

// crdPlurals maps the kinds the plan's CRDs define to their resources.
func crdPlurals(plan *render.Result) map[schema.GroupKind]string {
	out := map[schema.GroupKind]string{}
	for _, o := range plan.Objects() {
		if o.GetKind() != "CustomResourceDefinition" || o.GroupVersionKind().Group != "apiextensions.k8s.io" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
		if kind != "" && plural != "" {
			out[schema.GroupKind{Group: group, Kind: kind}] = plural
		}
	}
	return out
}

func sortedKinds(m map[schema.GroupKind][]string) []schema.GroupKind {
	out := make([]schema.GroupKind, 0, len(m))
	for gk := range m {
		out = append(out, gk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// groupRules turns group → resources into one rule per group, sorted; a
// group with "*" gets only "*".
func groupRules(m map[string]map[string]bool, verbs []string) []rbacv1.PolicyRule {
	groups := make([]string, 0, len(m))
	for g := range m {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var out []rbacv1.PolicyRule
	for _, g := range groups {
		var rs []string
		for r := range m[g] {
			rs = append(rs, r)
		}
		sort.Strings(rs)
		if slices.Contains(rs, "*") {
			rs = []string{"*"}
		}
		out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: rs, Verbs: slices.Clone(verbs)})
	}
	return out
}
