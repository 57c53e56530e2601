package diff

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
)

// prunes previews the pruning of ids from a stack's inventory.
func (d *differ) prunes(ctx context.Context, stack string, ids []change.Ref) []Change {
	out := make([]Change, len(ids))
	kube.Parallel(ctx, d.opts.Workers, len(ids), func(i int) {
		ch, err := d.prune(ctx, stack, ids[i])
		if err != nil {
			d.fail(err)
			return
		}
		out[i] = ch
	})
	return slices.DeleteFunc(out, func(c Change) bool { return c.Action == "" })
}

func (d *differ) prune(ctx context.Context, stack string, id change.Ref) (Change, error) {
	ch := Change{Stack: stack, Ref: id}
	m, err := d.c.Mapper.RESTMapping(id.GroupKind)
	if meta.IsNoMatchError(err) {
		return Change{}, nil // the kind is gone, and its objects with it
	}
	if err != nil {
		return ch, fmt.Errorf("%s: %w", id, err)
	}
	ch.Version = m.GroupVersionKind.Version
	live, err := d.c.Dynamic.Resource(m.Resource).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		d.saw(ch, nil)
		return Change{}, nil // already gone: apply only drops it from the inventory
	}
	if err != nil {
		return ch, fmt.Errorf("%s: read live object: %w", id, err)
	}
	d.saw(ch, live)
	before := Normalize(live)
	d.opts.Redactor.Mask(before, nil)
	ch.Before = before
	switch {
	case live.GetAnnotations()[inventory.OwningAnnotation] != inventory.ID(stack):
		ch.Action = change.Detach
		ch.Note = "not owned by this stack's inventory: left in place"
	case d.protected(live) && !d.opts.AllowDataLoss:
		ch.Action = change.Detach
		ch.Note = "no longer rendered; kept in the cluster and dropped from the inventory (--allow-data-loss deletes it)"
	default:
		ch.Action = change.Delete
		ch.Note = "no longer rendered"
		ch.from, ch.to = "live", "planned"
	}
	return ch, nil
}
