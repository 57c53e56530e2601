package render

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/spec"
)

// Well-known kinds a plan is read for.
var (
	NamespaceGK = schema.GroupKind{Kind: "Namespace"}
	CRDGK       = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	HelmChartGK = schema.GroupKind{Group: "helm.cattle.io", Kind: "HelmChart"}
)

// NewResult returns the plan of stacks (in apply order) under sel, with
// the tables it was rendered with: what their objects create that other
// objects of the plan may need.
func NewResult(tables *spec.Tables, sel Selection, stacks ...Stack) *Result {
	r := &Result{Tables: tables, Stacks: stacks, Selection: sel, CRDs: map[schema.GroupKind]bool{}, Namespaces: map[string]bool{}}
	for _, s := range stacks {
		for _, o := range s.Objects {
			switch o.GroupVersionKind().GroupKind() {
			case NamespaceGK:
				r.Namespaces[o.GetName()] = true
			case HelmChartGK:
				r.Charts = true
			case CRDGK:
				r.CRDs[DefinedKind(o.Unstructured)] = true
			}
		}
	}
	return r
}

// DefinedKind returns the kind a CustomResourceDefinition defines.
func DefinedKind(crd *unstructured.Unstructured) schema.GroupKind {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	return schema.GroupKind{Group: group, Kind: kind}
}

// Unstructured returns every object of every stack, in apply order.
func (r *Result) Unstructured() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, s := range r.Stacks {
		out = append(out, s.Unstructured()...)
	}
	return out
}

// Selection is what --layer and --env pick, as stack names read: a layer's
// order (0: any) and an environment (empty: any; with no layer it selects
// that environment's per-environment stacks only).
type Selection struct {
	Order int
	Env   string
}

// Match reports whether the selection picks stack.
func (s Selection) Match(stack string) bool {
	order, env, ok := ParseStack(stack)
	if !ok {
		return false
	}
	if s.Order != 0 && order != s.Order {
		return false
	}
	return s.Env == "" || env == s.Env
}

// ParseStack splits a stack name (l1, l3-prod) into its layer order and
// environment.
func ParseStack(stack string) (order int, env string, ok bool) {
	if !strings.HasPrefix(stack, "l") {
		return 0, "", false
	}
	num, env, _ := strings.Cut(stack[1:], "-")
	order, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", false
	}
	return order, env, true
}

// StackLess orders stacks for applying: by layer, then environment.
func StackLess(a, b string) bool {
	oa, ea, _ := ParseStack(a)
	ob, eb, _ := ParseStack(b)
	if oa != ob {
		return oa < ob
	}
	return ea < eb
}
