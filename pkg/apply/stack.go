package apply

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/render"
)

// stack applies one stack, planned in the run's diff. Custom resources
// whose kind is not served yet — a chart of the plan installs their CRD
// (cert-manager's), or a CRD of the plan defines it — are applied in a
// second pass: the stack is applied without them first, kcloud waits
// (within --timeout) until their kinds are served, and applies the whole
// stack.
func (r *runner) stack(ctx context.Context, s render.Stack, planned *diff.Result) error {
	start := time.Now()
	r.emit(Event{Type: StackStarted, Stack: s.Name, Message: fmt.Sprintf("%d objects", len(s.Objects))})
	return r.finish(s.Name, start, r.withHooks(ctx, s, planned, func() error { return r.stackPasses(ctx, s, planned) }))
}

// finish ends a stack: its summary, derived from its events, goes into the
// result and the StackFinished event.
func (r *runner) finish(stack string, start time.Time, err error) error {
	sum := r.tallies[stack].summary()
	sum.Duration = time.Since(start)
	r.res.Stacks = append(r.res.Stacks, sum)
	r.emit(Event{Type: StackFinished, Stack: stack, Summary: &sum, Err: err})
	if err != nil {
		return fmt.Errorf("stack %s: %w", stack, r.opts.Redactor.Error(err))
	}
	return nil
}

func (r *runner) stackPasses(ctx context.Context, s render.Stack, planned *diff.Result) error {
	if r.opts.DryRun {
		return r.report(s.Name, planned)
	}
	deferred, kinds := r.deferred(s)
	if len(kinds) == 0 {
		if needsReplan(planned.Stack(s.Name)) {
			r.c.Mapper.Reset() // an earlier stack may have created its CRDs
			return r.replanAndApply(ctx, s)
		}
		return r.apply(ctx, s, planned)
	}
	// What the first pass does, the second sees as unchanged: the stack's
	// summary keeps the change (see tally).
	if len(deferred.Objects) > 0 && installs(deferred, kinds, r.plan.Tables) {
		if err := r.replanAndApply(ctx, deferred); err != nil {
			return err
		}
	}
	if err := r.waitServed(ctx, s.Name, kinds); err != nil {
		return err
	}
	return r.replanAndApply(ctx, s)
}

// needsReplan reports whether a stack holds changes the server could not
// dry-run when the run began.
func needsReplan(changes []diff.Change) bool {
	for _, ch := range changes {
		if ch.Unverified {
			return true
		}
	}
	return false
}

// replanAndApply diffs s again, with the whole plan in view, and applies it.
func (r *runner) replanAndApply(ctx context.Context, s render.Stack) error {
	planned, err := diff.Replan(ctx, r.c, r.plan, s, r.opts.diff())
	if err != nil {
		return err
	}
	r.markAdoptions(planned)
	r.prime(planned)
	return r.apply(ctx, s, planned)
}

// apply writes one planned stack: nothing when nothing changes, otherwise
// what changes through cli-utils, the unchanged objects staying in the
// inventory untouched.
func (r *runner) apply(ctx context.Context, s render.Stack, planned *diff.Result) error {
	changes := planned.Stack(s.Name)
	local := refsOf(s)
	if !slices.ContainsFunc(changes, diff.Change.Changed) && sameRefs(planned.Inventories[s.Name].Objects, local) && !r.takesOver(s) {
		r.tallies[s.Name].noOp = true
		for _, ch := range changes {
			r.emit(Event{Type: ObjectEvent, Stack: s.Name, Object: ch.Ref, Op: OpApply, Action: change.Unchanged, Outcome: Done})
		}
		return r.waitAll(ctx, s, local)
	}
	if err := r.adopt(ctx, s, changes); err != nil {
		return err
	}
	if err := r.releaseHelmCharts(ctx, changes); err != nil {
		return err
	}
	if !r.opts.AllowDataLoss {
		if err := r.protect(ctx, changes); err != nil {
			return err
		}
	}
	if err := r.reattach(ctx, s.Name, changes); err != nil {
		return err
	}
	objs := make([]*unstructured.Unstructured, len(s.Objects))
	for i, o := range s.Objects {
		objs[i] = o.DeepCopy()
	}
	applySet, keep := partition(objs, changes)
	for _, ref := range keep {
		r.emit(Event{Type: ObjectEvent, Stack: s.Name, Object: ref, Op: OpApply, Action: change.Unchanged, Outcome: Done})
	}
	actions := map[change.Ref]change.Action{}
	for _, ch := range changes {
		actions[ch.Ref] = ch.Action
	}
	if err := r.runApplier(ctx, s.Name, applySet, keep, actions); err != nil {
		return err
	}
	return r.waitAll(ctx, s, keep)
}

// refsOf names the objects of a stack.
func refsOf(s render.Stack) []change.Ref {
	out := make([]change.Ref, len(s.Objects))
	for i, o := range s.Objects {
		out[i] = change.RefOf(o.Unstructured)
	}
	return out
}

// sameRefs reports whether a and b name the same objects, in any order.
func sameRefs(a, b []change.Ref) bool {
	in := make(map[change.Ref]bool, len(a))
	for _, r := range a {
		in[r] = true
	}
	seen := make(map[change.Ref]bool, len(b))
	for _, r := range b {
		if !in[r] {
			return false
		}
		seen[r] = true
	}
	return len(seen) == len(in)
}

// waitAll waits, with --wait, for what cli-utils did not wait for: the
// objects it did not apply, and the stack's charts to be installed.
func (r *runner) waitAll(ctx context.Context, s render.Stack, ids []change.Ref) error {
	if !r.opts.Wait {
		return nil
	}
	if len(ids) > 0 {
		if err := r.waitHealthy(ctx, s.Name, ids); err != nil {
			return err
		}
	}
	return r.waitCharts(ctx, s)
}

// report turns a stack's plan into the events of a dry run. The plan is
// made of server-side dry runs, and unlike cli-utils' dry run it knows
// that an object whose CRD or namespace the plan creates is a create.
func (r *runner) report(stack string, planned *diff.Result) error {
	failed := 0
	for _, ch := range planned.Stack(stack) {
		ev := Event{Type: ObjectEvent, Stack: stack, Object: ch.Ref, Op: OpApply, Action: ch.Action, Outcome: Done, Message: ch.Note}
		switch {
		case ch.Conflict.Blocks(r.opts.Adopt):
			failed++
			ev.Outcome = Failed
		case ch.Action == change.Delete || ch.Action == change.Detach:
			ev.Op = OpPrune
		}
		if ch.Action == change.Detach && ev.Outcome == Done {
			r.res.Detached = append(r.res.Detached, ch.Ref)
		}
		r.emit(ev)
	}
	if failed > 0 {
		return fmt.Errorf("%d object(s) would fail", failed)
	}
	return nil
}

// prime hands cli-utils the objects a diff read, so that it does not read
// them again one at a time: once per diff (the run's, each replan's), not
// per stack, so that what protect and reattach forgot stays forgotten.
func (r *runner) prime(planned *diff.Result) {
	planned.Live(r.primed.prime)
}
