package apply

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/object"
	"sigs.k8s.io/cli-utils/pkg/object/dependson"

	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
)

func hasHelmChart(s render.Stack) bool {
	for _, o := range s.Objects {
		if o.GroupVersionKind().GroupKind() == render.HelmChartGK {
			return true
		}
	}
	return false
}

// deferred returns the stack without the objects whose kinds are not
// served yet but come from a chart, and those kinds; no kinds when every
// kind is served.
func (r *runner) deferred(s render.Stack) (render.Stack, []schema.GroupVersionKind) {
	var kinds []schema.GroupVersionKind
	missing := map[schema.GroupVersionKind]bool{}
	for _, o := range s.Objects {
		gvk := o.GroupVersionKind()
		if _, seen := missing[gvk]; seen || !r.opts.Tables.FromChart(gvk.Group) {
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
