package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/health"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/seal"
	"kcloud.dev/kcloud/pkg/ssa"
)

// DefaultTimeout bounds each stack's wait. There is no infinite wait.
const DefaultTimeout = 5 * time.Minute

// pollInterval is how often a wait without cli-utils polls.
const pollInterval = 2 * time.Second

// Options tune Run and Destroy. The retention policy and the API group
// table come from the plan's Tables.
type Options struct {
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
	// AllowEmpty prunes stacks whose components render nothing (a removed
	// environment).
	AllowEmpty bool
	// AllowMassPrune lets one run delete more than half of a stack.
	AllowMassPrune bool
	// Lock tunes the apply lock.
	Lock inventory.LockOptions
	// Redactor masks Secret values in errors; nil builds one from the plan.
	Redactor *redact.Redactor
	// Events receives progress; nil drops it.
	Events func(Event)
	// Workers bounds concurrent requests of dry runs and health checks.
	Workers int
	// Merger proves objects unchanged on the client (see diff.Options).
	Merger *ssa.Merger
	// Seals, when set, are the seals of this cluster (pkg/seal): the diff
	// takes an object whose seal holds as unchanged, and what the writer
	// wrote is sealed at the states the server answered with.
	Seals *seal.Memo
}

func (o *Options) defaults(plan *render.Result) error {
	if plan.Tables == nil {
		return errors.New("apply: the plan has no tables")
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
	// A dry run reports the server's dry runs; a run sends each create
	// and each update of its own objects once, strictly, and undoes the
	// run if the server rejects one.
	return diff.Options{AllowDataLoss: o.AllowDataLoss, Redactor: o.Redactor, Workers: o.Workers, Merger: o.Merger,
		ForWriter: !o.DryRun, KeepLive: true, Seals: o.Seals}
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
	// hooks are the chart hooks of each stack, taken out of the plan
	// (hooks.go).
	hooks map[string][]hook
	// releases are the Helm releases the plan's charts take over, and
	// adopted the planned objects that belong to them (adopt.go).
	releases map[helmRelease]releaseRecords
	adopted  map[change.Ref]helmRelease
	// tallies derive each stack's summary from its events.
	tallies map[string]*tally
	// live are the live objects the plan read (nil: absent), by object;
	// before are the stacks' inventories as the run found them; undo
	// records every write: together what a rejected run puts back.
	live   map[change.Ref]*unstructured.Unstructured
	before map[string][]change.Ref
	undo   undoLog
	// written are the states (seal.Of) of the objects the writer wrote,
	// as the server answered: ref → string.
	written sync.Map
	// emitMu serializes events: the writer's workers emit concurrently.
	emitMu sync.Mutex
}

func newRunner(ctx context.Context, c *kube.Clients, plan *render.Result, opts Options) (*runner, error) {
	if err := opts.defaults(plan); err != nil {
		return nil, err
	}
	checker, err := health.NewChecker(ctx, c, opts.Workers)
	if err != nil {
		return nil, err
	}
	return &runner{c: c, opts: opts, plan: plan, health: checker, res: &Result{DryRun: opts.DryRun}, tallies: map[string]*tally{},
		live: map[change.Ref]*unstructured.Unstructured{}, before: map[string][]change.Ref{}, adopted: map[change.Ref]helmRelease{}}, nil
}

// emit hands an event to Options.Events, masked, and counts it in its
// stack's summary.
func (r *runner) emit(e Event) {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	e.Err = r.opts.Redactor.Error(e.Err)
	e.Message = r.opts.Redactor.String(e.Message)
	e.DryRun = e.DryRun || (r.opts.DryRun && e.Outcome == Done)
	if e.Type == StackStarted {
		r.tallies[e.Stack] = newTally(e.Stack)
	}
	if t := r.tallies[e.Stack]; t != nil {
		t.add(e)
	}
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
	if plan, r.hooks, err = splitHooks(plan); err != nil {
		return r.res, err
	}
	r.plan = plan
	planned, err := diff.Run(ctx, c, plan, r.opts.diff())
	if err != nil {
		return r.res, err
	}
	if r.releases, err = r.findReleases(ctx); err != nil {
		return r.res, err
	}
	r.markAdoptions(planned)
	if err := r.checkPrunes(planned); err != nil {
		return r.res, err
	}
	if err := r.checkConflicts(planned); err != nil {
		return r.res, err
	}
	for stack, inv := range planned.Inventories {
		r.before[stack] = inv.Objects
	}
	ctx, release, err := r.acquire(ctx)
	if err != nil {
		return r.res, err
	}
	defer release()

	r.primed = newPrimedClient(r.dynamicClient(), r.c.Mapper)
	r.prime(planned)
	for _, s := range plan.Stacks {
		if err := r.stack(ctx, s, planned); err != nil {
			if rej := (*RejectedError)(nil); errors.As(err, &rej) && !r.opts.DryRun {
				r.undoRun(ctx, rej)
				return r.res, fmt.Errorf("%w; %s", err, rej.Outcome())
			}
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

// EmptyStackError says apply refused to prune a stack whose components
// render nothing (a removed environment, a lost file).
type EmptyStackError struct {
	Stack string
	// Objects is how many objects its inventory lists; Prunes are those
	// apply would delete or detach.
	Objects int
	Prunes  []change.Ref
}

func (e *EmptyStackError) Error() string {
	return fmt.Sprintf("stack %s: no component renders anything into it, but its inventory lists %d object(s); apply would delete or detach %s: refusing; pass --allow-empty if its components or environment were removed on purpose",
		e.Stack, e.Objects, refList(e.Prunes))
}

// MassPruneError says apply refused to delete more than half of a stack's
// inventory in one run.
type MassPruneError struct {
	Stack   string
	Objects int
	Deletes []change.Ref
}

func (e *MassPruneError) Error() string {
	return fmt.Sprintf("stack %s: apply would delete %d of the %d object(s) its inventory lists (%s): refusing to delete more than half of a stack at once; pass --allow-mass-prune if that is intended",
		e.Stack, len(e.Deletes), e.Objects, refList(e.Deletes))
}

// ErrNothingRendered says the plan renders no component at all: applying
// it would prune every stack. 'kcloud destroy' deletes stacks on purpose.
var ErrNothingRendered = errors.New("the specs render no component at all (only generated namespaces): refusing to apply, which would prune every stack; check the spec directory, or use 'kcloud destroy' to delete a stack on purpose")

// checkPrunes stops a run before it writes anything when it would prune
// more than a slip of the hand should: every stack when no component
// renders anything; a stack whose components render nothing, or a stack
// of a removed environment, without AllowEmpty; more than half of a
// stack's inventory, without AllowMassPrune. Stacks are judged by what
// their components render, not by the namespaces kcloud generates.
func (r *runner) checkPrunes(planned *diff.Result) error {
	if len(r.plan.Stacks) > 0 && !slices.ContainsFunc(r.plan.Stacks, func(s render.Stack) bool { return s.Rendered() > 0 }) {
		return ErrNothingRendered
	}
	var errs []error
	for _, s := range r.plan.Stacks {
		inv := planned.Inventories[s.Name]
		prunes, deletes := prunesOf(planned.Stack(s.Name))
		switch {
		case s.Rendered() == 0 && len(prunes) > 0:
			if !r.opts.AllowEmpty { // which allows emptying it entirely
				errs = append(errs, &EmptyStackError{Stack: s.Name, Objects: len(inv.Objects), Prunes: prunes})
			}
		case 2*len(deletes) > len(inv.Objects) && !r.opts.AllowMassPrune:
			errs = append(errs, &MassPruneError{Stack: s.Name, Objects: len(inv.Objects), Deletes: deletes})
		}
	}
	for _, stack := range planned.Orphans {
		prunes, _ := prunesOf(planned.Stack(stack))
		if inv := planned.Inventories[stack]; len(inv.Objects) > 0 && !r.opts.AllowEmpty {
			errs = append(errs, &EmptyStackError{Stack: stack, Objects: len(inv.Objects), Prunes: prunes})
		}
	}
	return errors.Join(errs...)
}

// prunesOf returns what changes delete or detach, and what they delete.
func prunesOf(changes []diff.Change) (prunes, deletes []change.Ref) {
	for _, ch := range changes {
		switch ch.Action {
		case change.Delete:
			deletes = append(deletes, ch.Ref)
			prunes = append(prunes, ch.Ref)
		case change.Detach:
			prunes = append(prunes, ch.Ref)
		}
	}
	return prunes, deletes
}

// refList names refs, the first few of them.
func refList(refs []change.Ref) string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.String()
	}
	return summarize(names)
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
	// Every write of the run, cli-utils' included, first checks the lock
	// on our clock: a run stalled past its lock's expiry stops before its
	// next write, even one already being retried.
	r.c.SetWriteGate(func(req *http.Request) error {
		if strings.HasSuffix(req.URL.Path, lockPath) {
			return nil // the lock's own renewals and release
		}
		if err := lock.Valid(); err != nil {
			return fmt.Errorf("%s %s not sent: %w", req.Method, req.URL.Path, err)
		}
		return nil
	})
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
		r.c.SetWriteGate(nil)
		if err := lock.Release(ctx); err != nil {
			r.emit(Event{Type: Warning, Message: "release the apply lock", Err: err})
		}
	}, nil
}

// lockPath is the API path of the lock Lease.
const lockPath = "/apis/coordination.k8s.io/v1/namespaces/" + inventory.Namespace + "/leases/" + inventory.LockName

// lockLost names the lost lock as the cause of err when it is.
func (r *runner) lockLost(err error) error {
	if r.lock == nil || errors.Is(err, inventory.ErrLockLost) || r.lock.Valid() == nil {
		return err
	}
	return fmt.Errorf("%w: stopped before its next write (%v)", inventory.ErrLockLost, err)
}

// checkLock fails when the lock was lost; dry runs hold none.
func (r *runner) checkLock(ctx context.Context) error {
	if r.lock == nil {
		return nil
	}
	return r.lock.Check(ctx)
}
