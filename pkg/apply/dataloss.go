package apply

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/render"
)

// deleteDetached deletes, with AllowDataLoss, what pruning detached. A
// namespace that still holds the stack's objects is kept.
func (r *runner) deleteDetached(ctx context.Context, stack string, refs []change.Ref, localNamespaces map[string]bool) error {
	if !r.opts.AllowDataLoss || len(refs) == 0 {
		return nil
	}
	for _, ref := range refs {
		if ref.GroupKind == render.NamespaceGK && localNamespaces[ref.Name] {
			r.emit(Event{Type: Warning, Stack: stack, Object: ref, Message: "kept: it still holds objects of this stack"})
			continue
		}
		if !r.opts.DryRun {
			deleted, err := r.deleteOne(ctx, ref)
			if err != nil || !deleted {
				return err
			}
		}
		r.res.Detached = slices.DeleteFunc(r.res.Detached, func(x change.Ref) bool { return x == ref })
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpDelete, Action: change.Delete, Outcome: Done, Message: "--allow-data-loss"})
	}
	return nil
}

// deleteOne deletes the live object ref names, under the lock, with a UID
// precondition; false when it was already gone.
func (r *runner) deleteOne(ctx context.Context, ref change.Ref) (bool, error) {
	if err := r.checkLock(ctx); err != nil {
		return false, err
	}
	m, err := r.c.Mapper.RESTMapping(ref.GroupKind)
	if err != nil {
		return false, fmt.Errorf("%s: %w", ref, err)
	}
	ri := r.c.Dynamic.Resource(m.Resource).Namespace(ref.Namespace)
	live, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", ref, err)
	}
	uid := live.GetUID()
	policy := metav1.DeletePropagationBackground
	if err := ri.Delete(ctx, ref.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("%s: delete: %w", ref, err)
	}
	return true, nil
}
