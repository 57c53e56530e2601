package diff

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/seal"
	"kcloud.dev/kcloud/pkg/ssa"
)

// Options tune Run. The retention policy and the API group table come
// from the plan's Tables.
type Options struct {
	// AllowDataLoss previews deletes where apply would otherwise detach.
	AllowDataLoss bool
	// Workers bounds concurrent requests; default kube.DefaultWorkers.
	Workers int
	// Redactor hides Secret values in errors; nil builds one from the plan.
	Redactor *redact.Redactor
	// Merger proves objects unchanged on the client, from the live objects
	// read, so that they need no dry run; nil builds one knowing the
	// cluster's mutating admission but no CRDs (custom resources are then
	// dry-run).
	Merger *ssa.Merger
	// ReadOnly says when to compute changes client side with Merger,
	// sending no dry run (they need patch permission).
	ReadOnly ReadOnlyMode
	// ForWriter plans for apply's writer: an object that does not exist,
	// or that the stack already owns and the merge cannot prove
	// unchanged, is a create or an update with no dry run. The writer
	// sends it with strict field validation, tells an update the server
	// left alone by its resourceVersion, and undoes the run when the
	// server rejects one, so the success path pays one request per
	// changed object, not two. Such a change has no Before, After or Diff.
	// Objects another inventory owns, or none, are still dry-run.
	ForWriter bool
	// KeepLive keeps the live objects of what would change for
	// Result.Live (apply reuses them, and puts them back if the run is
	// undone). Every other live object is released once compared, so that
	// a large diff does not hold the cluster's objects beside the plan's.
	KeepLive bool
	// Seals, when set, are the seals of this cluster (pkg/seal): an object
	// whose seal holds is unchanged with only its metadata read, and the
	// objects the diff finds unchanged are sealed.
	Seals *seal.Memo
	// Texts renders each change's unified diff (Change.Diff) as soon as
	// the change is decided, in the diff's workers, and drops its Before
	// and After: for a caller that prints every change's text (kcloud diff
	// -o text), which then holds a few lines per change until printed
	// instead of two normalised objects.
	Texts bool
}

// ReadOnlyMode says when a diff computes changes client side only.
type ReadOnlyMode int

const (
	// ReadOnlyNever dry-runs on the server what the merge cannot prove
	// unchanged, and fails where the server forbids it (apply's diff).
	ReadOnlyNever ReadOnlyMode = iota
	// ReadOnlyIfForbidden does so until the server forbids a dry run, then
	// computes the rest client side (kcloud diff).
	ReadOnlyIfForbidden
	// ReadOnlyAlways sends no dry run at all (kcloud diff --read-only).
	ReadOnlyAlways
)

// Run diffs the whole plan against the cluster: every stack it renders,
// and the inventories of selected stacks it no longer renders (removed
// environments). Errors of single objects are collected and returned
// together (errors.Join) with what could be diffed.
func Run(ctx context.Context, c *kube.Clients, plan *render.Result, opts Options) (*Result, error) {
	d, err := newDiffer(ctx, c, plan, opts)
	if err != nil {
		return nil, err
	}
	return d.run(ctx, plan.Stacks, true)
}

// Replan diffs one stack of the plan again, with the whole plan in view:
// for apply, once the stacks before it are applied (the CRDs and
// namespaces it needs exist now).
func Replan(ctx context.Context, c *kube.Clients, plan *render.Result, stack render.Stack, opts Options) (*Result, error) {
	d, err := newDiffer(ctx, c, plan, opts)
	if err != nil {
		return nil, err
	}
	return d.run(ctx, []render.Stack{stack}, false)
}

type differ struct {
	c      *kube.Clients
	opts   Options
	plan   *render.Result
	reader *kube.Reader
	nss    sync.Map // namespace → *nsEntry
	// readOnly is set once the diff computes changes client side only.
	readOnly atomic.Bool

	mu   sync.Mutex
	errs []error
	live map[change.Ref]*unstructured.Unstructured
}

func newDiffer(ctx context.Context, c *kube.Clients, plan *render.Result, opts Options) (*differ, error) {
	if plan.Tables == nil {
		return nil, errors.New("diff: the plan has no tables")
	}
	if opts.Workers <= 0 {
		opts.Workers = kube.DefaultWorkers
	}
	if opts.Redactor == nil {
		opts.Redactor = redact.NewRedactor(plan.Unstructured())
	}
	if opts.Merger == nil {
		opts.Merger = ssa.NewMerger(ssa.Options{Admission: ssa.ReadAdmission(ctx, c.Typed)})
	}
	d := &differ{c: c, opts: opts, plan: plan, reader: kube.NewReader(c), live: map[change.Ref]*unstructured.Unstructured{}}
	d.readOnly.Store(opts.ReadOnly == ReadOnlyAlways)
	return d, nil
}

func (d *differ) fail(err error) {
	d.mu.Lock()
	d.errs = append(d.errs, d.opts.Redactor.Error(err))
	d.mu.Unlock()
}

// saw records the live object of a change (nil: absent) for Result.Live
// when asked to keep them and the object would change (a prune's before
// its action is decided).
func (d *differ) saw(ch Change, live *unstructured.Unstructured) {
	if !d.opts.KeepLive || ch.Action == change.Unchanged {
		return
	}
	d.mu.Lock()
	d.live[ch.Ref] = live
	d.mu.Unlock()
}

func (d *differ) run(ctx context.Context, stacks []render.Stack, orphans bool) (*Result, error) {
	res := &Result{Inventories: map[string]Inventory{}, live: d.live}
	type job struct {
		stack string
		obj   render.Object
		out   *Change
	}
	var jobs []job
	seals := d.sealed(ctx, stacks)
	changes := make([][]Change, len(stacks))
	for i, s := range stacks {
		res.Stacks = append(res.Stacks, s.Name)
		changes[i] = make([]Change, len(s.Objects))
		for j, o := range s.Objects {
			if ch, ok := seals[i].holds(j); ok {
				changes[i][j] = ch // unchanged, as its seal says
				continue
			}
			jobs = append(jobs, job{stack: s.Name, obj: o, out: &changes[i][j]})
			d.expect(o.Unstructured)
		}
	}
	// Each LIST starts the next, but none in a namespace the plan creates
	// and the cluster lacks: nothing is read there (differ.read).
	defer d.reader.ReadAhead(func(ns string) bool { return d.unborn(ctx, ns) })()
	kube.Parallel(ctx, d.opts.Workers, len(jobs), func(i int) {
		ch, err := d.object(ctx, jobs[i].stack, jobs[i].obj)
		if err == nil && d.opts.Texts {
			ch, err = ch.rendered()
		}
		if err != nil {
			d.fail(err)
			return
		}
		*jobs[i].out = ch
	})

	// Prune preview: what each inventory lists and the plan does not render.
	prunes := make([][]Change, len(stacks))
	for i, s := range stacks {
		ids, found, err := inventory.Get(ctx, d.c.Typed, s.Name)
		if err != nil {
			d.fail(err)
			continue
		}
		res.Inventories[s.Name] = Inventory{Objects: ids, Found: found}
		prunes[i] = d.prunes(ctx, s.Name, unrendered(ids, s))
		d.reseal(ctx, s, changes[i], seals[i])
	}
	var orphaned []Change
	if orphans {
		orphaned = d.orphans(ctx, res)
	}
	for i := range stacks {
		for _, ch := range changes[i] {
			if ch.Action != "" {
				res.Changes = append(res.Changes, ch)
			}
		}
		res.Changes = append(res.Changes, prunes[i]...)
	}
	res.Changes = append(res.Changes, orphaned...)
	res.ClientSide = d.readOnly.Load()
	return res, errors.Join(d.errs...)
}

// unrendered returns the refs of an inventory that s does not render, in
// the inventory's order.
func unrendered(inv []change.Ref, s render.Stack) []change.Ref {
	rendered := make(map[change.Ref]bool, len(s.Objects))
	for _, o := range s.Objects {
		rendered[change.RefOf(o.Unstructured)] = true
	}
	return slices.DeleteFunc(slices.Clone(inv), func(r change.Ref) bool { return rendered[r] })
}

// orphans previews the pruning of selected stacks the plan does not render.
func (d *differ) orphans(ctx context.Context, res *Result) []Change {
	stacks, err := inventory.Stacks(ctx, d.c.Metadata)
	if err != nil {
		d.fail(err)
		return nil
	}
	var out []Change
	for _, stack := range stacks {
		if _, rendered := res.Inventories[stack]; rendered || !d.plan.Selection.Match(stack) {
			continue
		}
		ids, found, err := inventory.Get(ctx, d.c.Typed, stack)
		if err != nil {
			d.fail(err)
			continue
		}
		if !found {
			continue // deleted since it was listed
		}
		res.Stacks = append(res.Stacks, stack)
		res.Orphans = append(res.Orphans, stack)
		res.Inventories[stack] = Inventory{Objects: ids, Found: true}
		out = append(out, orphaned(d.prunes(ctx, stack, ids))...)
	}
	return out
}

// orphanNote says what apply does with the prunes of a stack the plan no
// longer renders (a removed environment).
const orphanNote = "its stack is no longer rendered (a removed environment): apply refuses to prune it without --allow-empty"

// orphaned notes on the prunes of such a stack that apply refuses them.
func orphaned(changes []Change) []Change {
	for i, ch := range changes {
		switch ch.Note {
		case "", "no longer rendered":
			changes[i].Note = orphanNote
		default:
			changes[i].Note = ch.Note + "; " + orphanNote
		}
	}
	return changes
}

// expect tells the reader what will be read, so that it lists where many
// objects share a resource and namespace.
func (d *differ) expect(o *unstructured.Unstructured) {
	if m, err := d.c.Mapping(o.GroupVersionKind()); err == nil {
		d.reader.Expect(m.Resource, namespaceOf(m, o), o.GetName())
	}
}

func namespaceOf(m *meta.RESTMapping, o *unstructured.Unstructured) string {
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return ""
	}
	if ns := o.GetNamespace(); ns != "" {
		return ns
	}
	return metav1.NamespaceDefault
}

type nsEntry struct {
	once   sync.Once
	exists bool
}

// namespaceExists reports whether ns exists, once per namespace.
func (d *differ) namespaceExists(ctx context.Context, ns string) bool {
	v, _ := d.nss.LoadOrStore(ns, &nsEntry{})
	e := v.(*nsEntry)
	e.once.Do(func() {
		live, err := d.reader.Get(ctx, schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "", ns)
		e.exists = err != nil || live != nil
	})
	return e.exists
}
