package diff

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/seal"
	"kcloud.dev/kcloud/pkg/ssa"
)

// object diffs one rendered object.
func (d *differ) object(ctx context.Context, stack string, o render.Object) (ch Change, err error) {
	obj := o.Unstructured.DeepCopy()
	anns := obj.GetAnnotations()
	if anns == nil {
		anns = map[string]string{}
	}
	anns[inventory.OwningAnnotation] = inventory.ID(stack)
	obj.SetAnnotations(anns)
	gvk := obj.GroupVersionKind()
	ch = Change{Stack: stack, Ref: change.RefOf(obj), Version: gvk.Version, Component: o.Component}

	m, err := d.c.Mapping(gvk)
	if kube.IsUnserved(err) {
		return d.unserved(ch, obj, err)
	}
	if err != nil {
		return ch, fmt.Errorf("%s: %w", ch.Ref, err)
	}
	ns := namespaceOf(m, obj)
	obj.SetNamespace(ns)
	ch.Ref.Namespace = ns

	live, err := d.read(ctx, m, ns, obj.GetName())
	if err != nil {
		return ch, fmt.Errorf("%s: read live object: %w", ch.Ref, err)
	}
	defer func() {
		d.saw(ch, live)
		if live != nil && ch.Action == change.Unchanged {
			ch.State = seal.Of(live)
		}
	}()
	switch {
	case live != nil && d.readOnly.Load():
		return d.local(ch, live, d.opts.Merger.Apply(m.Resource.GroupResource(), live, obj, kube.FieldManager))
	case live != nil && d.opts.Merger.Unchanged(m.Resource.GroupResource(), live, obj, kube.FieldManager):
		ch.Action = change.Unchanged
		return d.owned(ch, live), nil
	case live == nil && d.readOnly.Load():
		ch = d.created(ch, obj)
		ch.ClientSide = true
		return ch, nil
	case d.sentAsIs(stack, live):
		// Apply's plan: the writer sends the object as it is and reads the
		// answer; no copy of it and no text is made here.
		ch.Action = change.Create
		if live != nil {
			ch.Action = change.Update
		}
		return ch, nil
	}
	if live == nil && d.unborn(ctx, ns) {
		// The dry run would fail on the missing namespace.
		ch.Note = "its namespace is created by this plan"
		return d.unverified(ch, obj), nil
	}
	planned, err := d.dryRun(ctx, m, obj)
	if apierrors.IsForbidden(err) && d.opts.ReadOnly == ReadOnlyIfForbidden {
		// A read-only identity: the rest of the diff is computed client side.
		d.readOnly.Store(true)
		return d.object(ctx, stack, o)
	}
	if err != nil {
		return ch, fmt.Errorf("%s%s: server-side dry-run: %w", at(o), ch.Ref, err)
	}
	if live == nil {
		return d.created(ch, planned), nil
	}
	return d.updated(ch, live, planned)
}

// unserved is the change of an object whose kind the cluster does not
// serve (err): a create that cannot be verified yet when the plan brings
// its CRD, err otherwise.
func (d *differ) unserved(ch Change, obj *unstructured.Unstructured, err error) (Change, error) {
	gvk := obj.GroupVersionKind()
	switch {
	case d.plan.CRDs[gvk.GroupKind()]:
		ch.Note = "its CustomResourceDefinition is created by this plan"
		return d.unverified(ch, obj), nil
	case d.plan.Charts && d.plan.Tables.FromChart(gvk.Group):
		ch.Note = "its CRD is not served yet: a chart this plan deploys installs it; apply waits for it"
		return d.unverified(ch, obj), nil
	}
	return ch, err
}

// sentAsIs reports whether apply's writer sends the object with no dry
// run before it (Options.ForWriter): a create, or an update of an object
// the stack already owns.
func (d *differ) sentAsIs(stack string, live *unstructured.Unstructured) bool {
	return d.opts.ForWriter && (live == nil || live.GetAnnotations()[inventory.OwningAnnotation] == inventory.ID(stack))
}

// read returns the live object, or nil when there is none. A namespace
// the plan creates and the cluster lacks holds nothing: it is not read (a
// new environment's first apply lists nothing, and meets none of the
// lists a freshly started server is not ready for).
func (d *differ) read(ctx context.Context, m *meta.RESTMapping, ns, name string) (*unstructured.Unstructured, error) {
	if d.unborn(ctx, ns) {
		return nil, nil
	}
	return d.reader.Take(ctx, m.Resource, ns, name)
}

// unborn reports whether ns is a namespace the plan creates and the
// cluster does not hold yet.
func (d *differ) unborn(ctx context.Context, ns string) bool {
	return ns != "" && d.plan.Namespaces[ns] && !d.namespaceExists(ctx, ns)
}

// local is the change to a live object as the client-side merge r has it.
func (d *differ) local(ch Change, live *unstructured.Unstructured, r ssa.Result) (Change, error) {
	switch r.Verdict {
	case ssa.Unchanged:
		ch.Action = change.Unchanged
		ch = d.owned(ch, live)
		ch.ClientSide = true
		return ch, nil
	case ssa.Changed:
		ch, err := d.updated(ch, live, r.Merged)
		ch.ClientSide = true
		return ch, err
	}
	// In doubt: shown as a change no one could check.
	ch = d.owned(ch, live)
	ch.ClientSide = true
	ch.Action = change.Update
	ch.Note = strings.TrimSuffix("not decided client side: "+r.Reason+"; "+ch.Note, "; ")
	return ch, nil
}

// dryRun server-side-applies obj as a dry run, as apply would (field
// manager kcloud, conflicts forced), with strict field validation: an
// unknown or duplicate field is an error, not a warning. Apply's own
// writes are not dry-run (Options.ForWriter): they
// are sent the same way.
func (d *differ) dryRun(ctx context.Context, m *meta.RESTMapping, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	force := true
	return d.c.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
		FieldManager:    kube.FieldManager,
		Force:           &force,
		DryRun:          []string{metav1.DryRunAll},
		FieldValidation: metav1.FieldValidationStrict,
	})
}

// at is where the object is written, as a prefix for errors.
func at(o render.Object) string {
	if !o.Origin.IsValid() {
		return ""
	}
	return o.Origin.String() + ": "
}

// updated compares the live object with the dry run's result and says who
// owns it.
func (d *differ) updated(ch Change, live, planned *unstructured.Unstructured) (Change, error) {
	before, after := Normalize(live), Normalize(planned)
	d.opts.Redactor.Mask(before, after)
	ch.Before, ch.After = before, after
	ch.Action = change.Unchanged
	// Decided on the objects, as their YAML would differ; the text of the
	// diff is rendered only when printed (Change.Text).
	if !sameYAML(before.Object, after.Object) {
		ch.Action = change.Update
		ch.from, ch.to = "live", "planned"
	}
	return d.owned(ch, live), nil
}

// owned says who owns live, and what apply does about it.
func (d *differ) owned(ch Change, live *unstructured.Unstructured) Change {
	switch owner := live.GetAnnotations()[inventory.OwningAnnotation]; {
	case owner == "" && live.GetLabels()[inventory.ManagedByLabel] == inventory.ManagedBy && d.protected(live):
		ch.Reattach = true
		ch.Note = "detached by an earlier prune: apply takes it back into this stack's inventory"
	case owner == "":
		ch.Conflict = change.Unmanaged
		ch.Note = "exists and is not managed by kcloud: apply leaves it untouched and fails unless --adopt"
	case owner != inventory.ID(ch.Stack):
		ch.Conflict = change.OtherInventory
		ch.Note = fmt.Sprintf("belongs to inventory %q: apply leaves it untouched and fails", owner)
	default:
		return ch
	}
	if ch.Action == change.Unchanged {
		ch.Action = change.Update
	}
	return ch
}

// unverified is a create the server could not dry-run yet.
func (d *differ) unverified(ch Change, obj *unstructured.Unstructured) Change {
	ch = d.created(ch, obj)
	ch.Unverified = true
	return ch
}

func (d *differ) created(ch Change, obj *unstructured.Unstructured) Change {
	after := Normalize(obj)
	d.opts.Redactor.Mask(nil, after)
	ch.Action = change.Create
	ch.After = after
	ch.from, ch.to = "live", "planned"
	return ch
}

// protected reports whether pruning obj detaches it unless data loss is
// allowed.
func (d *differ) protected(obj *unstructured.Unstructured) bool {
	return d.plan.Tables.Retention.Protects(obj.GetKind(), obj.GetAnnotations())
}
