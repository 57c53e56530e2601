package diff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/rs/zerolog"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/common"
	"sigs.k8s.io/cli-utils/pkg/object"
	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// FieldManager is the server-side apply field manager of kcloud.
const FieldManager = "kcloud"

// DefaultWorkers bounds the dry-runs in flight.
const DefaultWorkers = 16

// Options tune Run.
type Options struct {
	// Tables give the protected kinds and the detach annotation.
	Tables *spec.Tables
	// Selection picks the inventories of stacks the plan no longer renders
	// (a removed environment) whose objects would be pruned.
	Selection inventory.Selection
	// NoOrphans leaves out stacks the plan does not render.
	NoOrphans bool
	// AllowDataLoss previews deletes where apply would otherwise detach.
	AllowDataLoss bool
	// Workers bounds concurrent requests; default DefaultWorkers.
	Workers int
	// Redactor hides Secret values in errors; nil builds one from the plan.
	Redactor *redact.Redactor
	// OnLive, when set, receives each live object read (nil: there is
	// none), unmasked: for callers that reuse the reads. Never print them.
	OnLive func(gvr schema.GroupVersionResource, namespace, name string, live *unstructured.Unstructured)
}

// Run diffs the stacks of a render against the cluster. Errors of single
// objects are collected and returned together (errors.Join) with what
// could be diffed.
func Run(ctx context.Context, c *kube.Clients, stacks []render.Stack, opts Options) (*Result, error) {
	if opts.Tables == nil {
		return nil, errors.New("diff: no tables")
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	var all []*unstructured.Unstructured
	for _, s := range stacks {
		all = append(all, s.Unstructured()...)
	}
	if opts.Redactor == nil {
		opts.Redactor = redact.NewRedactor(all)
	}
	d := &differ{c: c, opts: opts, plan: newPlan(all), reader: kube.NewReader(c), log: zerolog.Ctx(ctx)}

	res := &Result{}
	type job struct {
		stack string
		obj   render.Object
		out   *Change
	}
	var jobs []job
	changes := make([][]Change, len(stacks))
	for i, s := range stacks {
		res.Stacks = append(res.Stacks, s.Name)
		changes[i] = make([]Change, len(s.Objects))
		for j, o := range s.Objects {
			jobs = append(jobs, job{stack: s.Name, obj: o, out: &changes[i][j]})
		}
	}
	d.countGroups(jobs2objs(jobs, func(j job) *unstructured.Unstructured { return j.obj.Unstructured }))

	var (
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, opts.Redactor.Error(err))
		mu.Unlock()
	}
	kube.Parallel(ctx, opts.Workers, len(jobs), func(i int) {
		j := jobs[i]
		ch, err := d.object(ctx, j.stack, j.obj)
		if err != nil {
			fail(err)
			return
		}
		*j.out = ch
	})

	// Prune preview: what each inventory lists and the plan does not render.
	prunes := make([][]Change, len(stacks))
	rendered := map[string]bool{}
	for i, s := range stacks {
		rendered[s.Name] = true
		ids, _, err := inventory.Get(ctx, c.Typed, s.Name)
		if err != nil {
			fail(err)
			continue
		}
		local := object.UnstructuredSetToObjMetadataSet(s.Unstructured())
		prunes[i] = d.prunes(ctx, s.Name, ids.Diff(local), fail)
	}
	var orphans []Change
	var invs []inventory.Stack
	if !opts.NoOrphans {
		var err error
		if invs, err = inventory.List(ctx, c.Typed); err != nil {
			fail(err)
		}
	}
	for _, inv := range invs {
		if rendered[inv.Name] || !opts.Selection.Match(inv.Name) {
			continue
		}
		res.Stacks = append(res.Stacks, inv.Name)
		orphans = append(orphans, d.prunes(ctx, inv.Name, inv.Objects, fail)...)
	}

	for i := range stacks {
		for _, ch := range changes[i] {
			if ch.Action != "" {
				res.Changes = append(res.Changes, ch)
			}
		}
		res.Changes = append(res.Changes, prunes[i]...)
	}
	res.Changes = append(res.Changes, orphans...)
	return res, errors.Join(errs...)
}

func jobs2objs[T any](in []T, f func(T) *unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}

// plan is what the render creates that other objects may need.
type plan struct {
	crds       map[schema.GroupKind]bool
	namespaces map[string]bool
	helmCharts bool
}

func newPlan(objs []*unstructured.Unstructured) *plan {
	p := &plan{crds: map[schema.GroupKind]bool{}, namespaces: map[string]bool{}}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		switch {
		case gvk.Group == "" && gvk.Kind == "Namespace":
			p.namespaces[o.GetName()] = true
		case gvk.Group == "helm.cattle.io" && gvk.Kind == "HelmChart":
			p.helmCharts = true
		case gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition":
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			p.crds[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	return p
}

type differ struct {
	c      *kube.Clients
	opts   Options
	plan   *plan
	log    *zerolog.Logger
	reader *kube.Reader
	nss    sync.Map // namespace → *nsEntry
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
		_, err := d.c.Typed.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		e.exists = !apierrors.IsNotFound(err)
	})
	return e.exists
}

// countGroups tells the reader what will be read.
func (d *differ) countGroups(objs []*unstructured.Unstructured) {
	for _, o := range objs {
		m, err := d.c.Mapping(o.GroupVersionKind())
		if err != nil {
			continue
		}
		d.reader.Expect(m.Resource, namespaceOf(m, o))
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

// object diffs one rendered object.
func (d *differ) object(ctx context.Context, stack string, o render.Object) (Change, error) {
	obj := o.Unstructured.DeepCopy()
	anns := obj.GetAnnotations()
	if anns == nil {
		anns = map[string]string{}
	}
	anns[inventory.OwningAnnotation] = inventory.ID(stack)
	obj.SetAnnotations(anns)
	gvk := obj.GroupVersionKind()
	ch := Change{Stack: stack, GVK: gvk, Namespace: obj.GetNamespace(), Name: obj.GetName(), Component: o.Component}
	ref := ch.Ref()

	m, err := d.c.Mapping(gvk)
	if kube.IsUnserved(err) {
		if d.plan.crds[gvk.GroupKind()] {
			ch.Note = "its CustomResourceDefinition is created by this plan"
			return d.created(ch, obj), nil
		}
		if d.plan.helmCharts && kube.ChartInstalled(gvk.GroupKind()) {
			ch.Note = "its CRD is not served yet: a chart this plan deploys installs it; apply waits for it"
			return d.created(ch, obj), nil
		}
		return ch, err
	}
	if err != nil {
		return ch, fmt.Errorf("%s: %w", ref, err)
	}
	ns := namespaceOf(m, obj)
	if ns == "" {
		obj.SetNamespace("")
	} else {
		obj.SetNamespace(ns)
	}
	ch.Namespace = ns
	ref = ch.Ref()
	ri := d.c.Dynamic.Resource(m.Resource).Namespace(ns)

	live, err := d.reader.Get(ctx, m.Resource, ns, obj.GetName())
	if err != nil {
		return ch, fmt.Errorf("%s: read live object: %w", ref, err)
	}
	if d.opts.OnLive != nil {
		d.opts.OnLive(m.Resource, ns, obj.GetName(), live)
	}
	if live == nil && ns != "" && d.plan.namespaces[ns] {
		// The namespace may not exist yet: the dry-run would fail on it.
		if !d.namespaceExists(ctx, ns) {
			ch.Note = "its namespace is created by this plan"
			return d.created(ch, obj), nil
		}
	}
	force := true
	planned, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{
		FieldManager: FieldManager,
		Force:        force,
		DryRun:       []string{metav1.DryRunAll},
	})
	if err != nil {
		return ch, fmt.Errorf("%s: server-side dry-run: %w", ref, err)
	}
	if live == nil {
		return d.created(ch, planned), nil
	}
	before, after := Normalize(live), Normalize(planned)
	redact.MaskSecrets(before, after)
	ch.Before, ch.After = before, after
	ch.Action = Unchanged
	// Most objects of a plan are unchanged: compare before rendering YAML.
	if !equality.Semantic.DeepEqual(before.Object, after.Object) {
		if ch.Diff, err = unified(ref, before, after); err != nil {
			return ch, err
		}
		if ch.Diff != "" {
			ch.Action = Update
		}
	}
	switch owner := live.GetAnnotations()[inventory.OwningAnnotation]; {
	case owner == "" && live.GetLabels()[inventory.ManagedByLabel] == inventory.ManagedBy && Protected(d.opts.Tables, live):
		ch.Reattach = true
		ch.Note = "detached by an earlier prune: apply takes it back into this stack's inventory"
		if ch.Action == Unchanged {
			ch.Action = Update
		}
	case owner == "":
		ch.Note = "exists and is not managed by kcloud: apply leaves it untouched and fails unless --adopt"
		if ch.Action == Unchanged {
			ch.Action = Update
		}
	case owner != inventory.ID(stack):
		ch.Note = fmt.Sprintf("belongs to inventory %q: apply leaves it untouched and fails", owner)
		if ch.Action == Unchanged {
			ch.Action = Update
		}
	}
	return ch, nil
}

func (d *differ) created(ch Change, obj *unstructured.Unstructured) Change {
	after := Normalize(obj)
	redact.MaskSecrets(nil, after)
	ch.Action = Create
	ch.After = after
	ch.Diff, _ = unified(ch.Ref(), nil, after)
	return ch
}

// prunes previews the pruning of ids from a stack's inventory.
func (d *differ) prunes(ctx context.Context, stack string, ids object.ObjMetadataSet, fail func(error)) []Change {
	out := make([]Change, len(ids))
	kube.Parallel(ctx, d.opts.Workers, len(ids), func(i int) {
		ch, err := d.prune(ctx, stack, ids[i])
		if err != nil {
			fail(err)
			return
		}
		out[i] = ch
	})
	return slices.DeleteFunc(out, func(c Change) bool { return c.Action == "" })
}

func (d *differ) prune(ctx context.Context, stack string, id object.ObjMetadata) (Change, error) {
	ch := Change{Stack: stack, GVK: id.GroupKind.WithVersion(""), Namespace: id.Namespace, Name: id.Name}
	m, err := d.c.Mapper.RESTMapping(id.GroupKind)
	if meta.IsNoMatchError(err) {
		return Change{}, nil // the kind is gone, and its objects with it
	}
	if err != nil {
		return ch, fmt.Errorf("%s: %w", ch.Ref(), err)
	}
	ch.GVK = m.GroupVersionKind
	live, err := d.c.Dynamic.Resource(m.Resource).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if d.opts.OnLive != nil {
			d.opts.OnLive(m.Resource, id.Namespace, id.Name, nil)
		}
		return Change{}, nil // already gone: apply only drops it from the inventory
	}
	if err == nil && d.opts.OnLive != nil {
		d.opts.OnLive(m.Resource, id.Namespace, id.Name, live)
	}
	if err != nil {
		return ch, fmt.Errorf("%s: read live object: %w", ch.Ref(), err)
	}
	before := Normalize(live)
	redact.MaskSecrets(before, nil)
	ch.Before = before
	owner := live.GetAnnotations()[inventory.OwningAnnotation]
	switch {
	case owner != inventory.ID(stack):
		ch.Action = Detach
		ch.Note = "not owned by this stack's inventory: left in place"
	case d.protected(live) && !d.opts.AllowDataLoss:
		ch.Action = Detach
		ch.Note = "no longer rendered; kept in the cluster and dropped from the inventory (--allow-data-loss deletes it)"
	default:
		ch.Action = Delete
		ch.Note = "no longer rendered"
		ch.Diff, err = unified(ch.Ref(), before, nil)
	}
	return ch, err
}

// protected reports whether pruning detaches obj rather than deleting it.
func (d *differ) protected(obj *unstructured.Unstructured) bool {
	return Protected(d.opts.Tables, obj)
}

// Protected reports whether pruning obj detaches it (leaves it in the
// cluster) unless data loss is allowed: a protected kind of the retention
// table, or the detach annotation.
func Protected(t *spec.Tables, obj *unstructured.Unstructured) bool {
	if slices.Contains(t.Retention.ProtectedKinds, obj.GetKind()) {
		return true
	}
	for k, v := range obj.GetAnnotations() {
		if common.NoDeletion(k, v) || (k == t.Retention.Detach.Key && v == t.Retention.Detach.Value) {
			return true
		}
	}
	return false
}

// unified returns a unified diff of two objects as YAML; empty when equal.
func unified(ref string, before, after *unstructured.Unstructured) (string, error) {
	a, err := toYAML(before)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	b, err := toYAML(after)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	if a == b {
		return "", nil
	}
	name := strings.ReplaceAll(ref, " ", "/")
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        lines(a),
		B:        lines(b),
		FromFile: "live/" + name,
		ToFile:   "planned/" + name,
		Context:  3,
	})
}

// lines splits s after each newline, for difflib; "" has no lines.
func lines(s string) []string {
	out := strings.SplitAfter(s, "\n")
	if len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func toYAML(obj *unstructured.Unstructured) (string, error) {
	if obj == nil {
		return "", nil
	}
	b, err := yaml.Marshal(obj.Object)
	return string(b), err
}

// Normalize returns a copy of obj without what the server owns and no one
// diffs: managedFields, resourceVersion, uid, generation, timestamps and
// status. Nil stays nil.
func Normalize(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	out := obj.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"} {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(out.Object, "status")
	if len(out.GetAnnotations()) == 0 {
		unstructured.RemoveNestedField(out.Object, "metadata", "annotations")
	}
	return out
}
