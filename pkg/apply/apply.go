package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	cliapply "sigs.k8s.io/cli-utils/pkg/apply"
	"sigs.k8s.io/cli-utils/pkg/apply/event"
	"sigs.k8s.io/cli-utils/pkg/apply/filter"
	"sigs.k8s.io/cli-utils/pkg/common"
	cliinv "sigs.k8s.io/cli-utils/pkg/inventory"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/statusreaders"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/kstatus/watcher"
	"sigs.k8s.io/cli-utils/pkg/object"
	"sigs.k8s.io/cli-utils/pkg/object/validation"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// DefaultTimeout bounds each stack's wait. There is no infinite wait.
const DefaultTimeout = 5 * time.Minute

// Options tune Run and Destroy.
type Options struct {
	// Tables give the protected kinds; required.
	Tables *spec.Tables
	// Selection picks the stacks of removed environments whose inventories
	// are pruned.
	Selection inventory.Selection
	// DryRun applies nothing: server-side dry runs, no lock, no inventory.
	DryRun bool
	// Wait waits for each stack's objects to be Current (kstatus) before the
	// next stack. Without it only CRDs are waited for (until Established).
	Wait bool
	// Timeout bounds each stack's wait; default DefaultTimeout.
	Timeout time.Duration
	// Adopt takes over existing objects no inventory owns.
	Adopt bool
	// AllowDataLoss deletes what pruning would otherwise detach.
	AllowDataLoss bool
	// AllowEmpty prunes stacks that render nothing (a removed environment).
	AllowEmpty bool
	// Lock tunes the apply lock.
	Lock inventory.LockOptions
	// Redactor masks Secret values in errors; nil builds one from the plan.
	Redactor *redact.Redactor
	// Events receives progress; nil drops it.
	Events func(Event)
	// Workers bounds concurrent requests of dry runs and health checks.
	Workers int
}

func (o *Options) defaults(objs []*unstructured.Unstructured) error {
	if o.Tables == nil {
		return errors.New("apply: no tables")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Redactor == nil {
		o.Redactor = redact.NewRedactor(objs)
	}
	if o.Events == nil {
		o.Events = func(Event) {}
	}
	if o.Workers <= 0 {
		o.Workers = diff.DefaultWorkers
	}
	return nil
}

// EmptyStackError says apply refused to prune a stack that renders nothing.
type EmptyStackError struct {
	Stack   string
	Objects int
}

func (e *EmptyStackError) Error() string {
	return fmt.Sprintf("stack %s renders nothing but its inventory lists %d object(s): refusing to prune them; pass --allow-empty if its environment was removed on purpose", e.Stack, e.Objects)
}

type runner struct {
	c    *kube.Clients
	opts Options
	lock *inventory.Lock
	res  *Result
	log  *zerolog.Logger
}

func (r *runner) emit(e Event) {
	if e.Err != nil {
		e.Err = r.opts.Redactor.Error(e.Err)
	}
	e.Message = r.opts.Redactor.String(e.Message)
	r.opts.Events(e)
}

// Run applies stacks in order, then prunes the stacks of removed
// environments the selection picks. It stops at the first stack that
// fails.
func Run(ctx context.Context, c *kube.Clients, stacks []render.Stack, opts Options) (*Result, error) {
	var all []*unstructured.Unstructured
	for _, s := range stacks {
		all = append(all, s.Unstructured()...)
	}
	if err := opts.defaults(all); err != nil {
		return nil, err
	}
	r := &runner{c: c, opts: opts, res: &Result{DryRun: opts.DryRun}, log: zerolog.Ctx(ctx)}

	// Preflight: nothing is written unless all of it passes.
	if err := preflightKinds(c, all); err != nil {
		return r.res, err
	}
	orphans, err := r.orphans(ctx, stacks)
	if err != nil {
		return r.res, err
	}

	ctx, release, err := r.acquire(ctx)
	if err != nil {
		return r.res, err
	}
	defer release()

	for _, s := range stacks {
		if err := r.stack(ctx, s); err != nil {
			return r.res, r.lockLost(err)
		}
	}
	// Prune removed environments' stacks, last layer first.
	for i := len(orphans) - 1; i >= 0; i-- {
		if err := r.destroy(ctx, orphans[i].Name); err != nil {
			return r.res, r.lockLost(err)
		}
	}
	return r.res, nil
}

// lockLost names the lost lock as the cause of err when it is.
func (r *runner) lockLost(err error) error {
	if r.lock == nil || errors.Is(err, inventory.ErrLockLost) {
		return err
	}
	select {
	case <-r.lock.Lost():
		return fmt.Errorf("%w: stopped before deleting anything more (%v)", inventory.ErrLockLost, err)
	default:
		return err
	}
}

// acquire takes the apply lock (not for dry runs) and returns a context
// cancelled when the lock is lost.
func (r *runner) acquire(ctx context.Context) (context.Context, func(), error) {
	if r.opts.DryRun {
		return ctx, func() {}, nil
	}
	lock, err := inventory.Acquire(ctx, r.c.Typed, r.opts.Lock)
	if err != nil {
		return ctx, nil, err
	}
	r.lock = lock
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-lock.Lost():
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		cancel()
		if err := lock.Release(ctx); err != nil {
			r.emit(Event{Type: Warning, Message: "release the apply lock", Err: err})
		}
	}, nil
}

// preflightKinds fails on a kind the cluster does not serve and the plan
// does not define.
func preflightKinds(c *kube.Clients, objs []*unstructured.Unstructured) error {
	defined := map[schema.GroupKind]bool{}
	charts := false
	for _, o := range objs {
		if o.GroupVersionKind().GroupKind() == helmChartGK {
			charts = true
		}
	}
	for _, o := range objs {
		if o.GroupVersionKind().GroupKind() == crdGK {
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			defined[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	var errs []error
	seen := map[schema.GroupVersionKind]bool{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if seen[gvk] || defined[gvk.GroupKind()] || (charts && kube.ChartInstalled(gvk.GroupKind())) {
			continue // defined by the plan, or installed by one of its charts: waited for
		}
		seen[gvk] = true
		if _, err := c.Mapping(gvk); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// orphans returns the inventories of selected stacks the plan does not
// render, and refuses to empty them without AllowEmpty.
func (r *runner) orphans(ctx context.Context, stacks []render.Stack) ([]inventory.Stack, error) {
	rendered := map[string]bool{}
	var errs []error
	for _, s := range stacks {
		rendered[s.Name] = true
		if len(s.Objects) == 0 && !r.opts.AllowEmpty {
			ids, _, err := inventory.Get(ctx, r.c.Typed, s.Name)
			if err != nil {
				return nil, err
			}
			if len(ids) > 0 {
				errs = append(errs, &EmptyStackError{Stack: s.Name, Objects: len(ids)})
			}
		}
	}
	invs, err := inventory.List(ctx, r.c.Typed)
	if err != nil {
		return nil, err
	}
	var out []inventory.Stack
	for _, inv := range invs {
		if rendered[inv.Name] || !r.opts.Selection.Match(inv.Name) {
			continue
		}
		if len(inv.Objects) > 0 && !r.opts.AllowEmpty {
			errs = append(errs, &EmptyStackError{Stack: inv.Name, Objects: len(inv.Objects)})
		}
		out = append(out, inv)
	}
	return out, errors.Join(errs...)
}

// stack applies one stack. Custom resources whose CRD a chart of the plan
// installs (cert-manager's, Kubero's) cannot be applied before K3s's Helm
// controller has run the chart: the stack is then applied without them
// first, kcloud waits (within --timeout) until their kinds are served, and
// applies the whole stack.
func (r *runner) stack(ctx context.Context, s render.Stack) error {
	start := time.Now()
	sum := &StackSummary{Stack: s.Name}
	r.emit(Event{Type: StackStarted, Stack: s.Name, Message: fmt.Sprintf("%d objects", len(s.Objects))})
	finish := func(err error) error {
		sum.Duration = time.Since(start)
		r.res.Stacks = append(r.res.Stacks, *sum)
		r.emit(Event{Type: StackFinished, Stack: s.Name, Summary: sum, Err: err})
		if err != nil {
			return fmt.Errorf("stack %s: %w", s.Name, r.opts.Redactor.Error(err))
		}
		return nil
	}
	var first *StackSummary
	if !r.opts.DryRun {
		deferred, kinds := r.deferred(s)
		if len(kinds) > 0 {
			if len(deferred.Objects) > 0 && hasHelmChart(deferred) {
				first = &StackSummary{Stack: s.Name}
				if err := r.stackOnce(ctx, deferred, first); err != nil {
					*sum = *first
					return finish(err)
				}
			}
			if err := r.waitServed(ctx, s.Name, kinds); err != nil {
				return finish(err)
			}
		}
	}
	err := r.stackOnce(ctx, s, sum)
	if first != nil {
		// What the first pass did, the second saw as unchanged.
		sum.Created += first.Created
		sum.Configured += first.Configured
		sum.Unchanged -= first.Created + first.Configured
		sum.Deleted += first.Deleted
		sum.Detached += first.Detached
		sum.NoOp = false
	}
	return finish(err)
}

// stackOnce plans and applies a stack.
func (r *runner) stackOnce(ctx context.Context, s render.Stack, sum *StackSummary) error {
	// The plan of this stack, from server-side dry runs: what the server
	// rejects stops the run before anything is written. Its reads prime the
	// client cli-utils reads with.
	primed := newPrimedClient(r.dynamicClient())
	planned, err := r.plan(ctx, s, primed)
	if err != nil {
		return err
	}
	if r.opts.DryRun {
		r.report(s.Name, planned, sum)
		if sum.Failed > 0 {
			return fmt.Errorf("%d object(s) would fail", sum.Failed)
		}
		return nil
	}
	local := object.UnstructuredSetToObjMetadataSet(s.Unstructured())
	inv, _, err := inventory.Get(ctx, r.c.Typed, s.Name)
	if err != nil {
		return err
	}
	if !planned.HasChanges() && inv.Equal(local) {
		// Nothing to write: leave cli-utils out.
		sum.NoOp = true
		for _, ch := range planned.Changes {
			sum.Unchanged++
			r.emit(Event{Type: ObjectEvent, Stack: s.Name, Object: refOf(ch), Op: OpApply, Status: Unchanged})
		}
		if r.opts.Wait {
			return r.waitHealthy(ctx, s.Name, local, sum)
		}
		return nil
	}

	actions := map[object.ObjMetadata]diff.Action{}
	for _, ch := range planned.Changes {
		actions[idOf(ch)] = ch.Action
	}
	if !r.opts.AllowDataLoss {
		if err := r.protect(ctx, s.Name, planned, primed); err != nil {
			return err
		}
	}
	if err := r.reattach(ctx, s.Name, planned, primed); err != nil {
		return err
	}
	objs := make([]*unstructured.Unstructured, len(s.Objects))
	for i, o := range s.Objects {
		objs[i] = o.DeepCopy()
	}
	apply, keep := partition(objs, planned)
	for _, id := range keep {
		sum.Unchanged++
		r.emit(Event{Type: ObjectEvent, Stack: s.Name, Object: Ref{GroupKind: id.GroupKind, Namespace: id.Namespace, Name: id.Name}, Op: OpApply, Status: Unchanged})
	}
	if err := r.runApplier(ctx, s.Name, apply, keep, namespacesOf(objs), actions, sum, primed); err != nil {
		return err
	}
	if r.opts.Wait && len(keep) > 0 {
		return r.waitHealthy(ctx, s.Name, keep, sum)
	}
	return nil
}

func namespacesOf(objs []*unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, o := range objs {
		if o.GetNamespace() != "" {
			out[o.GetNamespace()] = true
		}
	}
	return out
}

// report turns a plan into the events of a dry run. The plan is made of
// server-side dry runs, and unlike cli-utils' dry run it knows that an
// object in a namespace the plan creates is a create.
func (r *runner) report(stack string, planned *diff.Result, sum *StackSummary) {
	for _, ch := range planned.Changes {
		ev := Event{Type: ObjectEvent, Stack: stack, Object: refOf(ch), Op: OpApply, Message: ch.Note}
		switch ch.Action {
		case diff.Create:
			sum.Created++
			ev.Status = Created
		case diff.Update:
			sum.Configured++
			ev.Status = Configured
			if strings.Contains(ch.Note, "apply leaves it untouched") {
				sum.Configured--
				sum.Failed++
				ev.Status = Failed
			}
		case diff.Unchanged:
			sum.Unchanged++
			ev.Status = Unchanged
		case diff.Delete:
			sum.Deleted++
			ev.Op, ev.Status = OpPrune, Deleted
		case diff.Detach:
			sum.Detached++
			ev.Op, ev.Status = OpPrune, Detached
			r.res.Detached = append(r.res.Detached, refOf(ch))
		}
		if ev.Status != Failed {
			ev.Status += " (dry run)"
		}
		r.emit(ev)
	}
}

// plan dry-runs a stack; a kind served since the last discovery (a CRD an
// earlier stack created) gets one fresh look.
func (r *runner) plan(ctx context.Context, s render.Stack, primed *primedClient) (*diff.Result, error) {
	opts := diff.Options{Tables: r.opts.Tables, NoOrphans: true, AllowDataLoss: r.opts.AllowDataLoss, Redactor: r.opts.Redactor, Workers: r.opts.Workers}
	if primed != nil {
		opts.OnLive = func(gvr schema.GroupVersionResource, ns, name string, live *unstructured.Unstructured) {
			primed.prime(gvr.GroupResource(), ns, name, live)
		}
	}
	res, err := diff.Run(ctx, r.c, []render.Stack{s}, opts)
	if err != nil && kube.IsUnserved(err) {
		r.c.Mapper.Reset()
		res, err = diff.Run(ctx, r.c, []render.Stack{s}, opts)
	}
	return res, err
}

// protect makes sure every prune candidate of a protected kind carries the
// detach annotation before cli-utils sees it, so that it is detached even
// if something rendered it without. Adding protection is always safe.
func (r *runner) protect(ctx context.Context, stack string, planned *diff.Result, primed *primedClient) error {
	key, value := r.opts.Tables.Retention.Detach.Key, r.opts.Tables.Retention.Detach.Value
	for _, ch := range planned.Changes {
		if ch.Action != diff.Detach || ch.Before == nil || ch.Before.GetAnnotations()[key] == value {
			continue
		}
		if !diff.Protected(r.opts.Tables, ch.Before) {
			continue
		}
		m, err := r.c.Mapping(ch.GVK)
		if err != nil {
			return err
		}
		primed.forget(m.Resource.GroupResource(), ch.Namespace, ch.Name)
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
		if _, err := r.c.Dynamic.Resource(m.Resource).Namespace(ch.Namespace).Patch(ctx, ch.Name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{FieldManager: diff.FieldManager + "-protect"}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: add the detach annotation: %w", ch.Ref(), err)
		}
	}
	return nil
}

// reattach gives objects kcloud detached earlier (its labels, the detach
// annotation, no inventory) back to this stack's inventory, so that
// rendering them again (a re-added environment) does not need --adopt.
// Objects kcloud never managed still do.
func (r *runner) reattach(ctx context.Context, stack string, planned *diff.Result, primed *primedClient) error {
	for _, ch := range planned.Changes {
		if !ch.Reattach {
			continue
		}
		m, err := r.c.Mapping(ch.GVK)
		if err != nil {
			return err
		}
		primed.forget(m.Resource.GroupResource(), ch.Namespace, ch.Name)
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, inventory.OwningAnnotation, inventory.ID(stack))
		if _, err := r.c.Dynamic.Resource(m.Resource).Namespace(ch.Namespace).Patch(ctx, ch.Name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{FieldManager: diff.FieldManager}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: take it back into the inventory: %w", ch.Ref(), err)
		}
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: refOf(ch), Op: OpApply, Status: "reattached", Message: "detached earlier, rendered again"})
	}
	return nil
}

func (r *runner) dynamicClient() dynamic.Interface {
	if r.lock == nil {
		return r.c.Dynamic
	}
	return guardedClient{Interface: r.c.Dynamic, check: r.lock.Check}
}

func (r *runner) statusWatcher(ctx context.Context, dyn dynamic.Interface) (watcher.StatusWatcher, error) {
	w := watcher.NewDefaultStatusWatcher(dyn, r.c.Mapper)
	if !r.opts.Wait {
		w.StatusReader = presentReader{}
		return w, nil
	}
	modes, err := readBindingModes(ctx, r.c.Typed)
	if err != nil {
		return nil, err
	}
	w.StatusReader = statusreaders.NewStatusReader(r.c.Mapper, &pvcReader{modes: modes})
	return w, nil
}

func (r *runner) policy() cliinv.Policy {
	if r.opts.Adopt {
		return cliinv.PolicyAdoptIfNoInventory
	}
	return cliinv.PolicyMustMatch
}

func (r *runner) dryRun() common.DryRunStrategy {
	if r.opts.DryRun {
		return common.DryRunServer
	}
	return common.DryRunNone
}

// runApplier runs cli-utils' Applier over one stack: objs are applied,
// keep (unchanged, rendered objects) stay in the inventory untouched.
func (r *runner) runApplier(ctx context.Context, stack string, objs []*unstructured.Unstructured, keep object.ObjMetadataSet, localNamespaces map[string]bool,
	actions map[object.ObjMetadata]diff.Action, sum *StackSummary, primed *primedClient) error {
	invClient, err := inventory.NewClient(r.c)
	if err != nil {
		return err
	}
	if len(keep) > 0 {
		invClient = keepingInventory{Client: invClient, keep: keep}
	}
	var dyn dynamic.Interface = primed
	sw, err := r.statusWatcher(ctx, dyn)
	if err != nil {
		return err
	}
	applier, err := cliapply.NewApplierBuilder().
		WithFactory(r.c.Factory).
		WithInventoryClient(invClient).
		WithDynamicClient(dyn).
		WithDiscoveryClient(r.c.Discovery).
		WithRestMapper(r.c.Mapper).
		WithRestConfig(r.c.Config).
		WithStatusWatcher(sw).
		Build()
	if err != nil {
		return fmt.Errorf("build the applier: %w", err)
	}
	events := applier.Run(ctx, inventory.Info(stack), objs, cliapply.ApplierOptions{
		ServerSideOptions: common.ServerSideOptions{ServerSideApply: true, ForceConflicts: true, FieldManager: diff.FieldManager},
		ReconcileTimeout:  r.opts.Timeout,
		PruneTimeout:      r.opts.Timeout,
		InventoryPolicy:   r.policy(),
		ValidationPolicy:  validation.ExitEarly,
		DryRunStrategy:    r.dryRun(),
	})
	detached, err := r.consume(stack, events, actions, sum)
	if err != nil {
		return err
	}
	return r.deleteDetached(ctx, stack, detached, localNamespaces, sum)
}

// destroy deletes a stack through its inventory with cli-utils' Destroyer:
// for removed environments and 'kcloud destroy'.
func (r *runner) destroy(ctx context.Context, stack string) error {
	start := time.Now()
	sum := &StackSummary{Stack: stack}
	r.emit(Event{Type: StackStarted, Stack: stack, Message: "destroy"})
	err := func() error {
		invClient, err := inventory.NewClient(r.c)
		if err != nil {
			return err
		}
		dyn := r.dynamicClient()
		sw, err := r.statusWatcher(ctx, dyn)
		if err != nil {
			return err
		}
		d, err := cliapply.NewDestroyerBuilder().
			WithFactory(r.c.Factory).
			WithInventoryClient(invClient).
			WithDynamicClient(dyn).
			WithDiscoveryClient(r.c.Discovery).
			WithRestMapper(r.c.Mapper).
			WithRestConfig(r.c.Config).
			WithStatusWatcher(sw).
			Build()
		if err != nil {
			return fmt.Errorf("build the destroyer: %w", err)
		}
		if !r.opts.AllowDataLoss && !r.opts.DryRun {
			if err := r.protectInventory(ctx, stack); err != nil {
				return err
			}
		}
		events := d.Run(ctx, inventory.Info(stack), cliapply.DestroyerOptions{
			InventoryPolicy:  r.policy(),
			DryRunStrategy:   r.dryRun(),
			DeleteTimeout:    r.opts.Timeout,
			ValidationPolicy: validation.ExitEarly,
		})
		detached, err := r.consume(stack, events, nil, sum)
		if err != nil {
			return err
		}
		return r.deleteDetached(ctx, stack, detached, nil, sum)
	}()
	sum.Duration = time.Since(start)
	r.res.Stacks = append(r.res.Stacks, *sum)
	r.emit(Event{Type: StackFinished, Stack: stack, Summary: sum, Err: err})
	if err != nil {
		return fmt.Errorf("stack %s: %w", stack, r.opts.Redactor.Error(err))
	}
	return nil
}

// protectInventory adds the detach annotation to the protected objects of a
// stack's inventory that lack it, before a destroy.
func (r *runner) protectInventory(ctx context.Context, stack string) error {
	ids, _, err := inventory.Get(ctx, r.c.Typed, stack)
	if err != nil {
		return err
	}
	key, value := r.opts.Tables.Retention.Detach.Key, r.opts.Tables.Retention.Detach.Value
	for _, id := range ids {
		if !slices.Contains(r.opts.Tables.Retention.ProtectedKinds, id.GroupKind.Kind) {
			continue
		}
		m, err := r.c.Mapper.RESTMapping(id.GroupKind)
		if err != nil {
			continue
		}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
		if _, err := r.c.Dynamic.Resource(m.Resource).Namespace(id.Namespace).Patch(ctx, id.Name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{FieldManager: diff.FieldManager + "-protect"}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: add the detach annotation: %w", Ref{GroupKind: id.GroupKind, Namespace: id.Namespace, Name: id.Name}, err)
		}
	}
	return nil
}

// consume turns cli-utils events into kcloud's and returns what was
// detached.
func (r *runner) consume(stack string, events <-chan event.Event, actions map[object.ObjMetadata]diff.Action, sum *StackSummary) ([]Ref, error) {
	var (
		detached []Ref
		fatal    []error
		failed   []string
	)
	pruned := map[object.ObjMetadata]bool{}
	obj := func(id object.ObjMetadata, op Op, st, msg string, err error) {
		ref := Ref{GroupKind: id.GroupKind, Namespace: id.Namespace, Name: id.Name}
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: op, Status: st, Message: msg, Err: err})
		if st == Failed || st == Timeout {
			failed = append(failed, ref.String())
		}
	}
	for e := range events {
		switch e.Type {
		case event.ErrorType:
			fatal = append(fatal, e.ErrorEvent.Err)
		case event.ValidationType:
			fatal = append(fatal, e.ValidationEvent.Error)
		case event.ApplyType:
			ae := e.ApplyEvent
			switch ae.Status {
			case event.ApplySuccessful:
				st := Configured
				switch actions[ae.Identifier] {
				case diff.Create:
					st = Created
					sum.Created++
				case diff.Unchanged:
					st = Unchanged
					sum.Unchanged++
				default:
					sum.Configured++
				}
				if r.opts.DryRun {
					st += " (dry run)"
				}
				obj(ae.Identifier, OpApply, st, "", nil)
			case event.ApplySkipped:
				sum.Failed++
				obj(ae.Identifier, OpApply, Failed, skipReason(ae.Error), nil)
			case event.ApplyFailed:
				sum.Failed++
				obj(ae.Identifier, OpApply, Failed, "", ae.Error)
			}
		case event.PruneType, event.DeleteType:
			id, ok, err, op := e.PruneEvent.Identifier, e.PruneEvent.Status, e.PruneEvent.Error, OpPrune
			okSt, skipSt, failSt := event.PruneSuccessful, event.PruneSkipped, event.PruneFailed
			st := int(ok)
			if e.Type == event.DeleteType {
				id, err, op = e.DeleteEvent.Identifier, e.DeleteEvent.Error, OpDelete
				st = int(e.DeleteEvent.Status)
				okSt, skipSt, failSt = event.PruneEventStatus(event.DeleteSuccessful), event.PruneEventStatus(event.DeleteSkipped), event.PruneEventStatus(event.DeleteFailed)
			}
			pruned[id] = true
			switch event.PruneEventStatus(st) {
			case okSt:
				sum.Deleted++
				label := Deleted
				if r.opts.DryRun {
					label += " (dry run)"
				}
				obj(id, op, label, "", nil)
			case skipSt:
				var detach *filter.AnnotationPreventedDeletionError
				if errors.As(err, &detach) {
					sum.Detached++
					ref := Ref{GroupKind: id.GroupKind, Namespace: id.Namespace, Name: id.Name}
					detached = append(detached, ref)
					r.res.Detached = append(r.res.Detached, ref)
					obj(id, op, Detached, "kept in the cluster, dropped from the inventory (--allow-data-loss deletes it)", nil)
				} else {
					obj(id, op, Skipped, skipReason(err), nil)
				}
			case failSt:
				sum.Failed++
				obj(id, op, Failed, "", err)
			}
		case event.WaitType:
			we := e.WaitEvent
			switch we.Status {
			case event.ReconcileSuccessful:
				obj(we.Identifier, OpWait, Current, "", nil)
			case event.ReconcileTimeout:
				if pruned[we.Identifier] {
					r.emit(Event{Type: Warning, Stack: stack, Object: Ref{GroupKind: we.Identifier.GroupKind, Namespace: we.Identifier.Namespace, Name: we.Identifier.Name},
						Op: OpWait, Message: fmt.Sprintf("still being deleted after %s", r.opts.Timeout)})
					continue
				}
				sum.Unhealthy++
				obj(we.Identifier, OpWait, Timeout, fmt.Sprintf("not healthy after %s", r.opts.Timeout), nil)
			case event.ReconcileFailed:
				sum.Unhealthy++
				obj(we.Identifier, OpWait, Failed, "reconcile failed", nil)
			}
		}
	}
	if len(fatal) > 0 {
		return detached, errors.Join(fatal...)
	}
	if len(failed) > 0 {
		return detached, fmt.Errorf("%d object(s) failed: %s", len(failed), summarize(failed))
	}
	return detached, nil
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

// deleteDetached deletes, with AllowDataLoss, what pruning detached. A
// namespace that still holds the stack's objects is kept.
func (r *runner) deleteDetached(ctx context.Context, stack string, refs []Ref, localNamespaces map[string]bool, sum *StackSummary) error {
	if !r.opts.AllowDataLoss || len(refs) == 0 {
		return nil
	}
	for _, ref := range refs {
		if ref.GroupKind == (schema.GroupKind{Kind: "Namespace"}) && localNamespaces[ref.Name] {
			r.emit(Event{Type: Warning, Stack: stack, Object: ref, Message: "kept: it still holds objects of this stack"})
			continue
		}
		if r.opts.DryRun {
			r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpDelete, Status: Deleted + " (dry run)", Message: "--allow-data-loss"})
			continue
		}
		if err := r.lock.Check(ctx); err != nil {
			return err
		}
		m, err := r.c.Mapper.RESTMapping(ref.GroupKind)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		ri := r.c.Dynamic.Resource(m.Resource).Namespace(ref.Namespace)
		live, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		uid := live.GetUID()
		policy := metav1.DeletePropagationBackground
		if err := ri.Delete(ctx, ref.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: delete: %w", ref, err)
		}
		sum.Detached--
		sum.Deleted++
		r.res.Detached = slices.DeleteFunc(r.res.Detached, func(x Ref) bool { return x == ref })
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpDelete, Status: Deleted, Message: "--allow-data-loss"})
	}
	return nil
}

// waitHealthy polls a no-op stack's objects until all are Current or the
// timeout ends.
func (r *runner) waitHealthy(ctx context.Context, stack string, ids object.ObjMetadataSet, sum *StackSummary) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	pending := ids
	for {
		hs, err := Health(ctx, r.c, pending, r.opts.Workers)
		if err != nil {
			return err
		}
		pending = pending[:0:0]
		for _, h := range hs {
			if h.Status != status.CurrentStatus {
				pending = append(pending, h.ID)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			var refs []string
			for _, h := range hs {
				if h.Status != status.CurrentStatus {
					sum.Unhealthy++
					ref := Ref{GroupKind: h.ID.GroupKind, Namespace: h.ID.Namespace, Name: h.ID.Name}
					r.emit(Event{Type: ObjectEvent, Stack: stack, Object: ref, Op: OpWait, Status: Timeout, Message: fmt.Sprintf("%s: %s", h.Status, h.Message)})
					refs = append(refs, ref.String())
				}
			}
			return fmt.Errorf("%d object(s) not healthy after %s: %s", len(refs), r.opts.Timeout, summarize(refs))
		case <-time.After(2 * time.Second):
		}
	}
}

func refOf(ch diff.Change) Ref {
	return Ref{GroupKind: ch.GVK.GroupKind(), Namespace: ch.Namespace, Name: ch.Name}
}

func idOf(ch diff.Change) object.ObjMetadata {
	return object.ObjMetadata{GroupKind: ch.GVK.GroupKind(), Namespace: ch.Namespace, Name: ch.Name}
}
