package apply

import (
	"errors"
	"fmt"

	"sigs.k8s.io/cli-utils/pkg/apply/event"
	"sigs.k8s.io/cli-utils/pkg/apply/filter"
	cliinv "sigs.k8s.io/cli-utils/pkg/inventory"

	"kcloud.dev/kcloud/pkg/change"
)

// translator turns one stack's cli-utils events into kcloud's, counting
// them in the stack's summary.
type translator struct {
	r       *runner
	stack   string
	actions map[change.Ref]change.Action // the plan's, by object

	fatal    []error
	failed   []string
	detached []change.Ref
	pruned   map[change.Ref]bool
}

func newTranslator(r *runner, stack string, actions map[change.Ref]change.Action) *translator {
	return &translator{r: r, stack: stack, actions: actions, pruned: map[change.Ref]bool{}}
}

// consume reads events until the channel closes and returns what was
// detached.
func (t *translator) consume(events <-chan event.Event) ([]change.Ref, error) {
	for e := range events {
		switch e.Type {
		case event.ErrorType:
			t.fatal = append(t.fatal, e.ErrorEvent.Err)
		case event.ValidationType:
			t.fatal = append(t.fatal, e.ValidationEvent.Error)
		case event.ApplyType:
			t.onApply(e.ApplyEvent)
		case event.PruneType:
			t.onDelete(OpPrune, change.RefFromID(e.PruneEvent.Identifier), e.PruneEvent.Status == event.PruneSuccessful,
				e.PruneEvent.Status == event.PruneSkipped, e.PruneEvent.Error)
		case event.DeleteType:
			t.onDelete(OpDelete, change.RefFromID(e.DeleteEvent.Identifier), e.DeleteEvent.Status == event.DeleteSuccessful,
				e.DeleteEvent.Status == event.DeleteSkipped, e.DeleteEvent.Error)
		case event.WaitType:
			t.onWait(e.WaitEvent)
		}
	}
	if len(t.fatal) > 0 {
		return t.detached, errors.Join(t.fatal...)
	}
	if len(t.failed) > 0 {
		return t.detached, fmt.Errorf("%d object(s) failed: %s", len(t.failed), summarize(t.failed))
	}
	return t.detached, nil
}

func (t *translator) object(ref change.Ref, op Op, action change.Action, outcome Outcome, msg string, err error) {
	t.r.emit(Event{Type: ObjectEvent, Stack: t.stack, Object: ref, Op: op, Action: action, Outcome: outcome, Message: msg, Err: err})
	if outcome == Failed || outcome == Timeout {
		t.failed = append(t.failed, ref.String())
	}
}

func (t *translator) onApply(e event.ApplyEvent) {
	ref := change.RefFromID(e.Identifier)
	switch e.Status {
	case event.ApplySuccessful:
		action := t.actions[ref]
		if action != change.Create && action != change.Unchanged {
			action = change.Update
		}
		t.object(ref, OpApply, action, Done, "", nil)
	case event.ApplySkipped:
		t.object(ref, OpApply, "", Failed, skipReason(e.Error), nil)
	case event.ApplyFailed:
		t.object(ref, OpApply, "", Failed, "", e.Error)
	}
}

// onDelete handles prune (apply) and delete (destroy) events alike.
func (t *translator) onDelete(op Op, ref change.Ref, ok, skipped bool, err error) {
	t.pruned[ref] = true
	var detach *filter.AnnotationPreventedDeletionError
	switch {
	case ok:
		t.object(ref, op, change.Delete, Done, "", nil)
	case skipped && errors.As(err, &detach):
		t.detached = append(t.detached, ref)
		t.r.res.Detached = append(t.r.res.Detached, ref)
		t.object(ref, op, change.Detach, Done, "kept in the cluster, dropped from the inventory (--allow-data-loss deletes it)", nil)
	case skipped:
		t.object(ref, op, "", Skipped, skipReason(err), nil)
	default:
		t.object(ref, op, "", Failed, "", err)
	}
}

func (t *translator) onWait(e event.WaitEvent) {
	ref := change.RefFromID(e.Identifier)
	switch e.Status {
	case event.ReconcileSuccessful:
		t.object(ref, OpWait, "", Current, "", nil)
	case event.ReconcileTimeout:
		if t.pruned[ref] {
			t.r.emit(Event{Type: Warning, Stack: t.stack, Object: ref, Op: OpWait,
				Message: fmt.Sprintf("still being deleted after %s", t.r.opts.Timeout)})
			return
		}
		t.object(ref, OpWait, "", Timeout, fmt.Sprintf("not healthy after %s", t.r.opts.Timeout), nil)
	case event.ReconcileFailed:
		t.object(ref, OpWait, "", Failed, "reconcile failed", nil)
	}
}

func summarize(refs []string) string {
	const max = 5
	if len(refs) <= max {
		return fmt.Sprint(refs)
	}
	return fmt.Sprintf("%v and %d more", refs[:max], len(refs)-max)
}

// skipReason explains a skipped apply or prune in a user's words.
func skipReason(err error) string {
	var policy *cliinv.PolicyPreventedActuationError
	if errors.As(err, &policy) {
		switch policy.Status {
		case cliinv.Empty:
			if policy.Strategy.String() == "Delete" {
				return "not owned by this stack's inventory: left in place"
			}
			return "exists and is not managed by kcloud (no inventory owns it): left untouched; pass --adopt to take it over"
		case cliinv.NoMatch:
			return "belongs to another inventory: left untouched"
		}
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
