package apply

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/apis/actuation"
	"sigs.k8s.io/cli-utils/pkg/common"
	cliinv "sigs.k8s.io/cli-utils/pkg/inventory"
	"sigs.k8s.io/cli-utils/pkg/object"
	"sigs.k8s.io/cli-utils/pkg/object/dependson"
	"sigs.k8s.io/cli-utils/pkg/object/mutation"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
)

// partition splits a stack into what cli-utils must apply — what the plan
// creates or changes, and what those and the objects to prune depend on
// (cli-utils rejects dependencies outside its set) — and what it keeps: rendered
// objects whose server-side dry run is a no-op. Applying those again would
// change nothing; it would only cost a round trip each, one at a time. keep
// is empty when everything must go through cli-utils.
func partition(objs []*unstructured.Unstructured, changes []diff.Change) (apply []*unstructured.Unstructured, keep []change.Ref) {
	unchanged := map[object.ObjMetadata]bool{}
	for _, ch := range changes {
		if ch.Action == change.Unchanged {
			unchanged[ch.Ref.ID()] = true // cli-utils' dependson names objects so
		}
	}
	byID := make(map[object.ObjMetadata]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		if _, ok := o.GetAnnotations()[mutation.Annotation]; ok {
			return objs, nil // apply-time mutations read other objects: keep it simple
		}
		byID[object.UnstructuredToObjMetadata(o)] = o
	}
	in := map[object.ObjMetadata]bool{}
	var queue []object.ObjMetadata
	for id := range byID {
		if !unchanged[id] {
			in[id] = true
			queue = append(queue, id)
		}
	}
	// Objects to prune are in cli-utils' set too: so are their dependencies.
	for _, ch := range changes {
		if (ch.Action != change.Delete && ch.Action != change.Detach) || ch.Before == nil {
			continue
		}
		if _, ok := ch.Before.GetAnnotations()[mutation.Annotation]; ok {
			return objs, nil
		}
		deps, err := dependson.ReadAnnotation(ch.Before)
		if err != nil {
			return objs, nil
		}
		for _, d := range deps {
			if _, rendered := byID[d]; rendered && !in[d] {
				in[d] = true
				queue = append(queue, d)
			}
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		deps, err := dependson.ReadAnnotation(byID[id])
		if err != nil {
			return objs, nil // cli-utils reports it
		}
		for _, d := range deps {
			if _, rendered := byID[d]; rendered && !in[d] {
				in[d] = true
				queue = append(queue, d)
			}
		}
	}
	for _, o := range objs {
		id := object.UnstructuredToObjMetadata(o)
		if in[id] {
			apply = append(apply, o)
		} else {
			keep = append(keep, change.RefFromID(id))
		}
	}
	return apply, keep
}

// keepingInventory is the stack's inventory client for a partial apply: the
// objects kept out of the apply set stay in the inventory, and are not
// prune candidates.
type keepingInventory struct {
	cliinv.Client
	keep object.ObjMetadataSet
}

var _ cliinv.Client = keepingInventory{}

func (k keepingInventory) GetClusterObjs(inv cliinv.Info) (object.ObjMetadataSet, error) {
	objs, err := k.Client.GetClusterObjs(inv)
	return objs.Diff(k.keep), err
}

func (k keepingInventory) Merge(inv cliinv.Info, objs object.ObjMetadataSet, dryRun common.DryRunStrategy) (object.ObjMetadataSet, error) {
	return k.Client.Merge(inv, objs.Union(k.keep), dryRun)
}

func (k keepingInventory) Replace(inv cliinv.Info, objs object.ObjMetadataSet, status []actuation.ObjectStatus, dryRun common.DryRunStrategy) error {
	return k.Client.Replace(inv, objs.Union(k.keep), status, dryRun)
}
