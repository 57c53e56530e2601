package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/common"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
)

// RejectedError says the API server refused an object of the run (invalid,
// denied by an admission policy, over a quota), or the inventory policy
// refused one: what the run had written before is undone (see undoRun).
type RejectedError struct {
	Stack string
	// Object is the refused object; zero when several were (Refused).
	Object change.Ref
	// Err names the object's file:line and says why.
	Err error
	// Refused is set when the inventory policy refused, before the stack
	// was written.
	Refused bool
	// Undone are the objects the run wrote and undid: created ones
	// deleted, updated ones put back. Kept are the Namespaces and CRDs it
	// created, left in place and in their inventory.
	Undone, Kept []change.Ref
	// UndoErr is what could not be undone; the next apply repairs it.
	UndoErr error
}

func (e *RejectedError) Error() string {
	if e.Object != (change.Ref{}) {
		return e.Err.Error() + " (rejected by the API server)"
	}
	return e.Err.Error()
}

// Outcome says what became of the run's other writes.
func (e *RejectedError) Outcome() string {
	msg := "nothing of this run was left written"
	if len(e.Undone) > 0 {
		msg = fmt.Sprintf("this run's other writes were undone: %d object(s) (%s)", len(e.Undone), refList(e.Undone))
	}
	if len(e.Kept) > 0 {
		msg += fmt.Sprintf("; kept the Namespaces and CRDs it created: %s", refList(e.Kept))
	}
	if e.UndoErr != nil {
		msg += fmt.Sprintf("; could not undo everything (the next apply repairs it): %v", e.UndoErr)
	}
	return msg
}

func (e *RejectedError) Unwrap() error { return e.Err }

// undoManager is the field manager of a put-back object's update: the
// object carries the managed fields it was read with, kcloud's among them.
const undoManager = kube.FieldManager + "-undo"

// undoLog is every write of a run, recorded before it is sent, with the
// live object it replaces (nil: it created the object).
type undoLog struct {
	mu      sync.Mutex
	entries []undoEntry
}

type undoEntry struct {
	stack  string
	it     item
	before *unstructured.Unstructured
}

func (u *undoLog) record(stack string, it item, before *unstructured.Unstructured) {
	u.mu.Lock()
	u.entries = append(u.entries, undoEntry{stack: stack, it: it, before: before})
	u.mu.Unlock()
}

// undoRun undoes what the run wrote when rej stopped it, last write first:
// a created object is deleted, an updated one is put back as it was read
// before the run (its fields and their managers). Namespaces and CRDs it
// created stay (deleting a namespace deletes more than the run wrote, and
// it may never finish). Each stack's inventory is put back to what it
// listed before the run, with what stays. Prunes done by earlier stacks
// are not undone: what they deleted was no longer rendered.
func (r *runner) undoRun(ctx context.Context, rej *RejectedError) {
	entries := slices.Clone(r.undo.entries)
	slices.Reverse(entries)
	done := make([]bool, len(entries))
	errs := make([]error, len(entries))
	kube.Parallel(ctx, r.opts.Workers, len(entries), func(i int) {
		e := entries[i]
		if e.before == nil && (e.it.ref.GroupKind == render.NamespaceGK || e.it.ref.GroupKind == render.CRDGK) {
			return
		}
		errs[i] = r.undoOne(ctx, e)
		done[i] = errs[i] == nil
	})
	kept := map[string][]change.Ref{}
	for i, e := range entries {
		switch {
		case done[i]:
			rej.Undone = append(rej.Undone, e.it.ref)
			r.emit(Event{Type: ObjectEvent, Stack: e.stack, Object: e.it.ref, Op: OpUndo, Outcome: Done, Message: undoMessage(e)})
		case errs[i] == nil:
			rej.Kept = append(rej.Kept, e.it.ref)
			kept[e.stack] = append(kept[e.stack], e.it.ref)
		default:
			r.emit(Event{Type: ObjectEvent, Stack: e.stack, Object: e.it.ref, Op: OpUndo, Outcome: Failed, Err: errs[i]})
		}
	}
	errs = append(errs, r.restoreInventories(entries, kept))
	rej.UndoErr = r.opts.Redactor.Error(errors.Join(errs...))
	r.res.Undone = rej.Undone
}

func undoMessage(e undoEntry) string {
	if e.before == nil {
		return "created by this run: deleted"
	}
	return "updated by this run: put back"
}

// undoOne deletes what the run created or puts back what it updated.
func (r *runner) undoOne(ctx context.Context, e undoEntry) error {
	ri := r.dynamicClient().Resource(e.it.mapping.Resource)
	if e.before == nil {
		var err error
		policy := metav1.DeletePropagationBackground
		opts := metav1.DeleteOptions{PropagationPolicy: &policy}
		if e.it.ref.Namespace != "" {
			err = ri.Namespace(e.it.ref.Namespace).Delete(ctx, e.it.ref.Name, opts)
		} else {
			err = ri.Delete(ctx, e.it.ref.Name, opts)
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: delete: %w", e.it.ref, err)
		}
		return nil
	}
	back := e.before.DeepCopy()
	back.SetResourceVersion("") // whatever the run made of it
	var err error
	if e.it.ref.Namespace != "" {
		_, err = ri.Namespace(e.it.ref.Namespace).Update(ctx, back, metav1.UpdateOptions{FieldManager: undoManager})
	} else {
		_, err = ri.Update(ctx, back, metav1.UpdateOptions{FieldManager: undoManager})
	}
	if err != nil {
		return fmt.Errorf("%s: put back: %w", e.it.ref, err)
	}
	return nil
}

// restoreInventories puts each written stack's inventory back to what it
// listed before the run, with the objects that stay.
func (r *runner) restoreInventories(entries []undoEntry, kept map[string][]change.Ref) error {
	stacks := map[string]bool{}
	for _, e := range entries {
		stacks[e.stack] = true
	}
	if len(stacks) == 0 {
		return nil
	}
	invClient, err := inventory.NewClient(r.c)
	if err != nil {
		return err
	}
	var errs []error
	for stack := range stacks {
		refs := append(slices.Clone(r.before[stack]), kept[stack]...)
		if err := invClient.Replace(inventory.Info(stack), change.IDs(refs), nil, common.DryRunNone); err != nil {
			errs = append(errs, fmt.Errorf("put back the inventory of stack %s: %w", stack, err))
		}
	}
	return errors.Join(errs...)
}
