package apply

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/object"
	"sigs.k8s.io/cli-utils/pkg/object/dependson"

	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// installs reports whether a stack's objects install the CRDs of kinds
// itself: CRDs of its own, or a chart (a K3s HelmChart) of the API group
// table's.
func installs(s render.Stack, kinds []schema.GroupVersionKind, t *spec.Tables) bool {
	defined := map[schema.GroupKind]bool{}
	charts := false
	for _, o := range s.Objects {
		switch o.GroupVersionKind().GroupKind() {
		case render.CRDGK:
			defined[render.DefinedKind(o.Unstructured)] = true
		case render.HelmChartGK:
			charts = true
		}
	}
	return slices.ContainsFunc(kinds, func(k schema.GroupVersionKind) bool {
		return defined[k.GroupKind()] || (charts && t.FromChart(k.Group))
	})
}

// deferred returns the stack without the objects whose kinds are not
// served yet but are installed by the plan — by a chart, or by a CRD of
// the same stack — and those kinds; no kinds when every kind is served.
// cli-utils cannot wait for an object whose kind discovery does not serve
// yet when its wait starts (its status watcher gives up on the kind until
// the CRD changes again), and discovery may lag behind a CRD's Established
// condition: the stack is applied in two passes around waitServed.
func (r *runner) deferred(s render.Stack) (render.Stack, []schema.GroupVersionKind) {
	var kinds []schema.GroupVersionKind
	missing := map[schema.GroupVersionKind]bool{}
	for _, o := range s.Objects {
		gvk := o.GroupVersionKind()
		if _, seen := missing[gvk]; seen || (!r.plan.Tables.FromChart(gvk.Group) && !r.plan.CRDs[gvk.GroupKind()]) {
			continue
		}
		_, err := r.c.Mapping(gvk)
		missing[gvk] = kube.IsUnserved(err)
		if missing[gvk] {
			kinds = append(kinds, gvk)
		}
	}
	if len(kinds) == 0 {
		return s, nil
	}
	out := render.Stack{Name: s.Name, Layer: s.Layer, Env: s.Env}
	var left object.ObjMetadataSet
	for _, o := range s.Objects {
		if missing[o.GroupVersionKind()] {
			left = append(left, object.UnstructuredToObjMetadata(o.Unstructured))
			continue
		}
		out.Objects = append(out.Objects, o)
	}
	// cli-utils rejects dependencies outside the apply set: drop those on
	// the objects left for later.
	for i, o := range out.Objects {
		deps, err := dependson.ReadAnnotation(o.Unstructured)
		if err != nil || len(deps) == 0 {
			continue
		}
		var keep dependson.DependencySet
		for _, d := range deps {
			if !left.Contains(d) {
				keep = append(keep, d)
			}
		}
		if len(keep) == len(deps) {
			continue
		}
		u := o.DeepCopy()
		if len(keep) == 0 {
			anns := u.GetAnnotations()
			delete(anns, dependson.Annotation)
			u.SetAnnotations(anns)
		} else if err := dependson.WriteAnnotation(u, keep); err != nil {
			continue
		}
		out.Objects[i] = render.Object{Unstructured: u, Component: o.Component, Origin: o.Origin}
	}
	return out, kinds
}
