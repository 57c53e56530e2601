package apply

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/common"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/render"
)

// applyChartCRDs applies, before pre hooks run, what they need of the
// stack where it changes: its Namespaces, and the CRDs of the crds/ of the
// charts whose hooks run — Helm installs a chart's CRDs before anything
// else of it, its hooks included
// (https://github.com/helm/helm/blob/v4.3.2/pkg/action/install.go,
// installCRDs before the pre-install hooks) — then waits until the CRDs'
// kinds are served. Without pre hooks the stack's own pass applies them
// first. The inventory lists them before they name it, as reattach does;
// the stack's pass then finds them applied.
func (r *runner) applyChartCRDs(ctx context.Context, s render.Stack, changes []diff.Change, pre []hook) error {
	changed := map[change.Ref]bool{}
	for _, ch := range changes {
		changed[ch.Ref] = ch.Changed()
	}
	var crds []*unstructured.Unstructured
	var refs []change.Ref
	for _, o := range s.Objects {
		ref := change.RefOf(o.Unstructured)
		first := o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "" ||
			o.ChartCRD && slices.ContainsFunc(pre, func(h hook) bool { return h.Component == o.Component })
		if first && changed[ref] && len(pre) > 0 {
			crds, refs = append(crds, o.DeepCopy()), append(refs, ref)
		}
	}
	if len(crds) == 0 {
		return nil
	}
	invClient, err := inventory.NewClient(r.c)
	if err != nil {
		return err
	}
	if _, err := invClient.Merge(inventory.Info(s.Name), change.IDs(refs), common.DryRunNone); err != nil {
		return fmt.Errorf("list %s in the inventory of stack %s: %w", refList(refs), s.Name, err)
	}
	var kinds []schema.GroupVersionKind
	for _, crd := range crds {
		crd.SetAnnotations(withAnnotation(crd.GetAnnotations(), inventory.OwningAnnotation, inventory.ID(s.Name)))
		res, err := r.resource(crd)
		if err == nil {
			err = serverSideApply(ctx, res, crd)
		}
		if err != nil {
			return fmt.Errorf("%s: apply it before the chart's pre hooks: %w", change.RefOf(crd), err)
		}
		if r.primed != nil {
			r.primed.forget(change.RefOf(crd))
		}
		kinds = append(kinds, servedKinds(crd)...)
	}
	if len(kinds) == 0 {
		return nil
	}
	return r.waitServed(ctx, s.Name, kinds)
}

func withAnnotation(a map[string]string, key, value string) map[string]string {
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	return a
}

// servedKinds are the kinds a CRD serves.
func servedKinds(crd *unstructured.Unstructured) []schema.GroupVersionKind {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var out []schema.GroupVersionKind
	for _, v := range versions {
		m, _ := v.(map[string]any)
		if name, _ := m["name"].(string); name != "" && m["served"] == true {
			out = append(out, schema.GroupVersionKind{Group: group, Version: name, Kind: kind})
		}
	}
	return out
}
