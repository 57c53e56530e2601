package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/common"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/seal"
)

// crdPollInterval is how often the writer looks whether the CRDs of a wave
// are Established.
const crdPollInterval = 250 * time.Millisecond

// writeStack applies a planned stack with kcloud's own writer: the stack's
// inventory lists every rendered object before the first is written (a
// killed run is repaired by the next); what the plan creates or changes is
// sent in waves (write); the unchanged objects are not sent at all; what
// the inventory lists and the stack no longer renders is pruned by
// cli-utils (prune), which also writes the final inventory; without
// prunes, what the inventory still lists beyond what the stack renders is
// dropped from it.
func (r *runner) writeStack(ctx context.Context, s render.Stack, changes []diff.Change) error {
	items, keep, err := r.items(s, changes)
	if err != nil {
		return err
	}
	r.tallies[s.Name].noOp = false
	invClient, err := inventory.NewClient(r.c)
	if err != nil {
		return err
	}
	local := refsOf(s)
	beyond, err := invClient.Merge(inventory.Info(s.Name), change.IDs(local), common.DryRunNone)
	if err != nil {
		return fmt.Errorf("record the objects of stack %s in its inventory: %w", s.Name, err)
	}
	if err := r.write(ctx, s.Name, items); err != nil {
		return err
	}
	for _, ref := range keep {
		r.emit(Event{Type: ObjectEvent, Stack: s.Name, Object: ref, Op: OpApply, Action: change.Unchanged, Outcome: Done})
	}
	switch {
	case hasPrunes(changes):
		if err := r.prune(ctx, s, changes); err != nil {
			return err
		}
	case len(beyond) > 0:
		if err := invClient.Replace(inventory.Info(s.Name), change.IDs(local), nil, common.DryRunNone); err != nil {
			return fmt.Errorf("complete the inventory of stack %s: %w", s.Name, err)
		}
	}
	// Otherwise the merge found nothing listed beyond what the stack
	// renders (a first apply, say): the inventory is already exactly it,
	// and Replace would read it twice to write nothing.
	if err := r.waitAll(ctx, s, local); err != nil {
		return err
	}
	if r.opts.Wait { // as cli-utils' wait reported what it applied
		for _, it := range items {
			r.emit(Event{Type: ObjectEvent, Stack: s.Name, Object: it.ref, Op: OpWait, Outcome: Current})
		}
	}
	r.seal(ctx, s, changes)
	return nil
}

// items are what the writer sends of a stack — what the plan creates or
// changes, in render order — and the refs of what it keeps unchanged. An
// object the inventory policy refuses (another stack's, or unmanaged
// without --adopt) stops the stack before anything of it is written.
func (r *runner) items(s render.Stack, changes []diff.Change) (items []item, keep []change.Ref, err error) {
	planned := make(map[change.Ref]diff.Change, len(changes))
	for _, ch := range changes {
		planned[ch.Ref] = ch
	}
	var refused []error
	for _, o := range s.Objects {
		m, err := r.c.Mapping(o.GroupVersionKind())
		if err != nil {
			return nil, nil, fmt.Errorf("%s%s: %w", at(o), change.RefOf(o.Unstructured), err)
		}
		ref := serverRef(o, m)
		ch, ok := planned[ref]
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("%s%s: not planned", at(o), ref)
		case ch.Conflict.Blocks(r.opts.Adopt):
			refused = append(refused, fmt.Errorf("%s%s: %s", at(o), ref, conflictReason(ch.Conflict)))
		case ch.Action == change.Unchanged:
			keep = append(keep, ref)
		default:
			items = append(items, item{obj: o, ref: ref, mapping: m, action: ch.Action})
		}
	}
	if len(refused) > 0 {
		return nil, nil, &RejectedError{Stack: s.Name, Err: errors.Join(refused...), Refused: true}
	}
	return items, keep, nil
}

// conflictReason says, in cli-utils' words, why the inventory policy
// leaves an object alone.
func conflictReason(c change.Conflict) string {
	if c == change.OtherInventory {
		return "belongs to another inventory: left untouched"
	}
	return "exists and is not managed by kcloud (no inventory owns it): left untouched; pass --adopt to take it over"
}

// at is where an object is written, as a prefix for errors.
func at(o render.Object) string {
	if !o.Origin.IsValid() {
		return ""
	}
	return o.Origin.String() + ": "
}

// write sends items wave by wave (see waves): each wave's objects in
// parallel on Options.Workers; after a wave of CRDs, until they are
// Established; with --wait, until what later waves depend on is healthy.
// Every write is recorded for undo before it is sent.
func (r *runner) write(ctx context.Context, stack string, items []item) error {
	for _, w := range waves(items) {
		if err := r.writeWave(ctx, stack, w); err != nil {
			return err
		}
		if w.crds {
			if err := r.waitEstablished(ctx, stack, w); err != nil {
				return err
			}
		}
		if r.opts.Wait && len(w.needed) > 0 {
			if err := r.waitHealthy(ctx, stack, w.needed); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeWave writes one wave. The first object the server rejects stops
// what is not sent yet; what is in flight finishes.
func (r *runner) writeWave(ctx context.Context, stack string, w wave) error {
	var stop atomic.Bool
	errs := make([]error, len(w.items))
	// A request once sent is seen through, as cli-utils does: cancelling it
	// (an interrupt, the lock lost) would not unsend it, only hide its
	// outcome. What is not sent yet is not sent (the write gate, ctx).
	sendCtx := context.WithoutCancel(ctx)
	kube.Parallel(ctx, r.opts.Workers, len(w.items), func(i int) {
		if stop.Load() || ctx.Err() != nil {
			return
		}
		it := w.items[i]
		r.undo.record(stack, it, r.live[it.ref])
		if r.primed != nil {
			r.primed.forget(it.ref)
		}
		version, err := r.send(sendCtx, stack, it)
		if err != nil {
			stop.Store(true)
			errs[i] = fmt.Errorf("%s%s: %w", at(it.obj), it.ref, err)
			r.emit(Event{Type: ObjectEvent, Stack: stack, Object: it.ref, Op: OpApply, Outcome: Failed, Err: errs[i]})
			return
		}
		action := it.action
		if live := r.live[it.ref]; live != nil && version == live.GetResourceVersion() {
			action = change.Unchanged // an update the merge could not rule out; the server changed nothing
		}
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: it.ref, Op: OpApply, Action: action, Outcome: Done})
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, err := range errs {
		if err != nil && rejected(err) {
			return &RejectedError{Stack: stack, Object: w.items[i].ref, Err: err}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rejected reports whether err is the API server refusing an object (a
// 4xx answer: invalid, forbidden by admission or quota), rather than a
// transient failure the retries gave up on or a lost lock.
func rejected(err error) bool {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return false
	}
	code := st.Status().Code
	return code >= 400 && code < 500 && code != 429 && code != 408
}

// send server-side-applies one object: field manager kcloud, conflicts
// forced, strict field validation (an unknown or duplicate field is an
// error, not a warning). Of the answer only the resourceVersion is kept,
// and the state it seals (written).
func (r *runner) send(ctx context.Context, stack string, it item) (version string, err error) {
	data, err := applyBody(it.obj.Unstructured, it.ref.Namespace, inventory.ID(stack))
	if err != nil {
		return "", err
	}
	force := true
	ri := r.c.Dynamic.Resource(it.mapping.Resource)
	opts := metav1.PatchOptions{FieldManager: kube.FieldManager, Force: &force, FieldValidation: metav1.FieldValidationStrict}
	var out *unstructured.Unstructured
	if it.ref.Namespace != "" && it.mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		out, err = ri.Namespace(it.ref.Namespace).Patch(ctx, it.ref.Name, types.ApplyPatchType, data, opts)
	} else {
		out, err = ri.Patch(ctx, it.ref.Name, types.ApplyPatchType, data, opts)
	}
	if err != nil {
		return "", err
	}
	r.written.Store(it.ref, seal.Of(out))
	return out.GetResourceVersion(), nil
}

// applyBody is obj as JSON with its namespace and the owning-inventory
// annotation cli-utils would add, made from shallow copies of the maps on
// the way to the annotation: the plan's object is neither changed nor
// copied whole.
func applyBody(obj *unstructured.Unstructured, namespace, owner string) ([]byte, error) {
	body := maps.Clone(obj.Object)
	md, _ := body["metadata"].(map[string]any)
	md = maps.Clone(md)
	if md == nil {
		md = map[string]any{}
	}
	anns, _ := md["annotations"].(map[string]any)
	anns = maps.Clone(anns)
	if anns == nil {
		anns = map[string]any{}
	}
	anns[inventory.OwningAnnotation] = owner
	md["annotations"] = anns
	if namespace != "" {
		md["namespace"] = namespace
	}
	body["metadata"] = md
	return json.Marshal(body)
}

// waitEstablished waits, within the timeout, until the CRDs of a wave are
// Established, then reads discovery again: the next waves may hold their
// custom resources.
func (r *runner) waitEstablished(ctx context.Context, stack string, w wave) error {
	var crds []change.Ref
	for _, it := range w.items {
		if it.ref.GroupKind == render.CRDGK {
			crds = append(crds, it.ref)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	bad, err := r.health.Wait(ctx, crds, crdPollInterval)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d CRD(s) not Established after %s: %s", len(bad), r.opts.Timeout, bad[0].Ref)
	}
	r.c.Mapper.Reset()
	return nil
}

// checkConflicts refuses a run, before anything is written, when the
// inventory policy would refuse an object of the plan: another stack's, or
// one no inventory owns without --adopt. Dry runs report them as failures
// instead.
func (r *runner) checkConflicts(planned *diff.Result) error {
	if r.opts.DryRun {
		return nil
	}
	blocked := map[change.Ref]change.Conflict{}
	for _, ch := range planned.Changes {
		if ch.Conflict.Blocks(r.opts.Adopt) {
			blocked[ch.Ref] = ch.Conflict
		}
	}
	if len(blocked) == 0 {
		return nil
	}
	var errs []error
	for _, s := range r.plan.Stacks {
		for _, o := range s.Objects {
			ref := change.RefOf(o.Unstructured)
			if c, ok := blocked[ref]; ok {
				errs = append(errs, fmt.Errorf("%s%s: %s", at(o), ref, conflictReason(c)))
				delete(blocked, ref)
			}
		}
	}
	for ref, c := range blocked { // named by the server's namespace only
		errs = append(errs, fmt.Errorf("%s: %s", ref, conflictReason(c)))
	}
	return &RejectedError{Err: errors.Join(errs...), Refused: true}
}
