package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/health"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// DefaultTimeout bounds each stack's wait. There is no infinite wait.
const DefaultTimeout = 5 * time.Minute

// pollInterval is how often a wait without cli-utils polls.
const pollInterval = 2 * time.Second

// Options tune Run and Destroy.
type Options struct {
	// Tables give the retention policy and the API group table; required.
	Tables *spec.Tables
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

func (o *Options) defaults(plan *render.Result) error {
	if o.Tables == nil {
		return errors.New("apply: no tables")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Redactor == nil {
		o.Redactor = redact.NewRedactor(plan.Unstructured())
	}
	if o.Events == nil {
		o.Events = func(Event) {}
	}
	if o.Workers <= 0 {
		o.Workers = kube.DefaultWorkers
	}
	return nil
}

func (o *Options) diff() diff.Options {
	return diff.Options{Tables: o.Tables, AllowDataLoss: o.AllowDataLoss, Redactor: o.Redactor, Workers: o.Workers}
}

// runner is one Run or Destroy.
type runner struct {
	c      *kube.Clients
	opts   Options
	plan   *render.Result
	lock   *inventory.Lock
	health *health.Checker
	// primed serves cli-utils the live objects the plan read.
	primed *primedClient
	res    *Result
}

func newRunner(ctx context.Context, c *kube.Clients, plan *render.Result, opts Options) (*runner, error) {
	if err := opts.defaults(plan); err != nil {
		return nil, err
	}
	checker, err := health.NewChecker(ctx, c, opts.Workers)
	if err != nil {
		return nil, err
	}
	return &runner{c: c, opts: opts, plan: plan, health: checker, res: &Result{DryRun: opts.DryRun}}, nil
}

func (r *runner) emit(e Event) {
	e.Err = r.opts.Redactor.Error(e.Err)
	e.Message = r.opts.Redactor.String(e.Message)
	e.DryRun = e.DryRun || (r.opts.DryRun && e.Outcome == Done)
	r.opts.Events(e)
}

// Run applies the plan's stacks in order, then prunes the stacks of removed
// environments its selection picks. The whole plan is diffed first: what
// the server rejects, an unserved kind or a refused prune stops the run
// before anything is written. It stops at the first stack that fails.
func Run(ctx context.Context, c *kube.Clients, plan *render.Result, opts Options) (*Result, error) {
	r, err := newRunner(ctx, c, plan, opts)
	if err != nil {
		return nil, err
	}
	planned, err := diff.Run(ctx, c, plan, r.opts.diff())
	if err != nil {
		return r.res, err
	}
	if err := r.checkEmpty(planned); err != nil {
		return r.res, err
	}
	ctx, release, err := r.acquire(ctx)
	if err != nil {
		return r.res, err
	}
	defer release()

	r.primed = newPrimedClient(r.dynamicClient())
	for _, s := range plan.Stacks {
		if err := r.stack(ctx, s, planned); err != nil {
			return r.res, r.lockLost(err)
		}
	}
	// Prune removed environments' stacks, last layer first.
	for i := len(planned.Orphans) - 1; i >= 0; i-- {
		if err := r.destroy(ctx, planned.Orphans[i]); err != nil {
			return r.res, r.lockLost(err)
		}
	}
	return r.res, nil
}

// EmptyStackError says apply refused to prune a stack that renders nothing.
type EmptyStackError struct {
	Stack   string
	Objects int
}

func (e *EmptyStackError) Error() string {
	return fmt.Sprintf("stack %s renders nothing but its inventory lists %d object(s): refusing to prune them; pass --allow-empty if its environment was removed on purpose", e.Stack, e.Objects)
}

// checkEmpty refuses, without AllowEmpty, to empty the inventory of a stack
// that renders nothing or that the plan no longer renders at all.
func (r *runner) checkEmpty(planned *diff.Result) error {
	if r.opts.AllowEmpty {
		return nil
	}
	var errs []error
	for _, s := range r.plan.Stacks {
		if inv := planned.Inventories[s.Name]; len(s.Objects) == 0 && len(inv.Objects) > 0 {
			errs = append(errs, &EmptyStackError{Stack: s.Name, Objects: len(inv.Objects)})
		}
	}
	for _, stack := range planned.Orphans {
		if inv := planned.Inventories[stack]; len(inv.Objects) > 0 {
			errs = append(errs, &EmptyStackError{Stack: stack, Objects: len(inv.Objects)})
		}
	}
	return errors.Join(errs...)
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

// checkLock fails when the lock was lost; dry runs hold none.
func (r *runner) checkLock(ctx context.Context) error {
	if r.lock == nil {
		return nil
	}
	return r.lock.Check(ctx)
}
