package apply

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/object"
	"sigs.k8s.io/cli-utils/pkg/object/dependson"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/render"
)

// hasPrunes reports whether a stack's plan deletes or detaches anything.
func hasPrunes(changes []diff.Change) bool {
	for _, ch := range changes {
		if ch.Action == change.Delete || ch.Action == change.Detach {
			return true
		}
	}
	return false
}

// prune hands a written stack to cli-utils' Applier for its pruning, with
// cli-utils' own semantics: its inventory policy (MustMatch, or
// AdoptIfNoInventory with --adopt), its detach annotations, its
// depends-on order of deletes, its final inventory. cli-utils applies
// only the rendered objects the pruned ones depend on (it rejects
// dependencies outside its set), again with no change; the rest stay in
// the inventory as written (keepingInventory).
func (r *runner) prune(ctx context.Context, s render.Stack, changes []diff.Change) error {
	deps := pruneDeps(s, changes)
	var objs []*unstructured.Unstructured
	var keep []change.Ref
	for _, o := range s.Objects {
		id := object.UnstructuredToObjMetadata(o.Unstructured)
		if deps[id] {
			objs = append(objs, o.DeepCopy())
			continue
		}
		keep = append(keep, change.RefFromID(id))
	}
	actions := map[change.Ref]change.Action{}
	for _, ch := range changes {
		actions[ch.Ref] = ch.Action
	}
	return r.runApplier(ctx, s.Name, objs, keep, actions)
}

// pruneDeps returns the rendered objects the objects to prune depend on.
func pruneDeps(s render.Stack, changes []diff.Change) map[object.ObjMetadata]bool {
	out := map[object.ObjMetadata]bool{}
	for _, ch := range changes {
		if (ch.Action != change.Delete && ch.Action != change.Detach) || ch.Before == nil {
			continue
		}
		ds, err := dependson.ReadAnnotation(ch.Before)
		if err != nil {
			continue
		}
		for _, d := range ds {
			out[d] = true
		}
	}
	if len(out) == 0 {
		return out
	}
	rendered := map[object.ObjMetadata]*unstructured.Unstructured{}
	for _, o := range s.Objects {
		rendered[object.UnstructuredToObjMetadata(o.Unstructured)] = o.Unstructured
	}
	// Their own dependencies too, transitively: cli-utils wants them all.
	queue := make([]object.ObjMetadata, 0, len(out))
	for d := range out {
		if rendered[d] == nil {
			delete(out, d)
			continue
		}
		queue = append(queue, d)
	}
	for len(queue) > 0 {
		ds, _ := dependson.ReadAnnotation(rendered[queue[0]])
		queue = queue[1:]
		for _, d := range ds {
			if rendered[d] != nil && !out[d] {
				out[d] = true
				queue = append(queue, d)
			}
		}
	}
	return out
}
