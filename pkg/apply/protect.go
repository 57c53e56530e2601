package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/common"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
)

// protectManager is the field manager of the detach annotations kcloud adds
// before pruning.
const protectManager = kube.FieldManager + "-protect"

// protect makes sure every prune candidate of a protected kind carries the
// detach annotation before cli-utils sees it, so that it is detached even
// if something rendered it without. Adding protection is always safe.
func (r *runner) protect(ctx context.Context, changes []diff.Change) error {
	detach := r.plan.Tables.Retention.Detach
	for _, ch := range changes {
		if ch.Action != change.Detach || ch.Before == nil || ch.Before.GetAnnotations()[detach.Key] == detach.Value {
			continue
		}
		if !r.plan.Tables.Retention.Protects(ch.Before.GetKind(), ch.Before.GetAnnotations()) {
			continue
		}
		if err := r.annotate(ctx, ch.Ref, detach.Key, detach.Value, protectManager); err != nil {
			return fmt.Errorf("%s: add the detach annotation: %w", ch.Ref, err)
		}
	}
	return nil
}

// protectInventory adds the detach annotation to the protected objects of a
// stack's inventory that lack it, before a destroy.
func (r *runner) protectInventory(ctx context.Context, stack string) error {
	refs, _, err := inventory.Get(ctx, r.c.Typed, stack)
	if err != nil {
		return err
	}
	detach := r.plan.Tables.Retention.Detach
	for _, ref := range refs {
		if !r.plan.Tables.Retention.Protects(ref.GroupKind.Kind, nil) {
			continue
		}
		if err := r.annotate(ctx, ref, detach.Key, detach.Value, protectManager); err != nil {
			return fmt.Errorf("%s: add the detach annotation: %w", ref, err)
		}
	}
	return nil
}

// reattach gives objects kcloud detached earlier (its labels, the detach
// annotation, no inventory) back to this stack's inventory, so that
// rendering them again (a re-added environment) does not need --adopt.
// Objects kcloud never managed still do. The inventory lists them before
// they name it: a run killed in between leaves no object naming an
// inventory that does not list it.
func (r *runner) reattach(ctx context.Context, stack string, changes []diff.Change) error {
	var refs []change.Ref
	for _, ch := range changes {
		if ch.Reattach {
			refs = append(refs, ch.Ref)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	invClient, err := inventory.NewClient(r.c)
	if err != nil {
		return err
	}
	if _, err := invClient.Merge(inventory.Info(stack), change.IDs(refs), common.DryRunNone); err != nil {
		return fmt.Errorf("take %s back into the inventory of stack %s: %w", refList(refs), stack, err)
	}
	for _, ch := range changes {
		if !ch.Reattach {
			continue
		}
		if err := r.annotate(ctx, ch.Ref, inventory.OwningAnnotation, inventory.ID(stack), kube.FieldManager); err != nil {
			return fmt.Errorf("%s: take it back into the inventory: %w", ch.Ref, err)
		}
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ch.Ref, Op: OpApply, Action: change.Reattach, Outcome: Done, Message: "detached earlier, rendered again"})
	}
	return nil
}

// annotate sets one annotation on a live object with a merge patch; an
// object that is gone is left alone. What the plan read of it is stale
// from then on.
func (r *runner) annotate(ctx context.Context, ref change.Ref, key, value, manager string) error {
	m, err := r.c.Mapper.RESTMapping(ref.GroupKind)
	if meta.IsNoMatchError(err) {
		return nil // the kind is gone, and its objects with it
	}
	if err != nil {
		return err
	}
	if r.primed != nil {
		r.primed.forget(ref)
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
	_, err = r.c.Dynamic.Resource(m.Resource).Namespace(ref.Namespace).Patch(ctx, ref.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: manager})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
