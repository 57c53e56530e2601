package diff

import (
	"context"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/seal"
)

// sealing is what the seals of one stack say (Options.Seals).
type sealing struct {
	// had are the stack's seals as loaded.
	had seal.Seals
	// plans are each object's digest (seal.Plan); nil when the stack had
	// no seals.
	plans []string
	// changes are Unchanged where the object's seal holds, zero elsewhere
	// (nil: none holds).
	changes []Change
}

// sealed reads what the seals of each stack say: an object whose digest
// is the one sealed and that is still at the sealed UID and
// resourceVersion (its metadata read) is unchanged; every other object is
// diffed as it would be without seals.
func (d *differ) sealed(ctx context.Context, stacks []render.Stack) []sealing {
	out := make([]sealing, len(stacks))
	if d.opts.Seals == nil {
		return out
	}
	kube.Parallel(ctx, d.opts.Workers, len(stacks), func(i int) {
		out[i] = d.sealStack(ctx, stacks[i])
	})
	return out
}

// readPlace is one resource in one namespace.
type readPlace struct {
	gvr schema.GroupVersionResource
	ns  string
}

func (d *differ) sealStack(ctx context.Context, s render.Stack) sealing {
	sg := sealing{had: d.opts.Seals.Load(s.Name)}
	if len(sg.had) == 0 {
		return sg
	}
	var mappings map[schema.GroupVersionKind]*meta.RESTMapping
	sg.plans, mappings = Digests(ctx, d.c, s, d.opts)
	sg.changes = make([]Change, len(s.Objects))
	at := make([]readPlace, len(s.Objects))
	for j, o := range s.Objects {
		if sg.plans[j] == "" {
			continue
		}
		gvk := o.GroupVersionKind()
		m := mappings[gvk]
		ref := change.RefOf(o.Unstructured)
		ref.Namespace = namespaceOf(m, o.Unstructured)
		if e, ok := sg.had[seal.Key(ref)]; ok && e.Plan == sg.plans[j] {
			sg.changes[j] = Change{Stack: s.Name, Ref: ref, Version: gvk.Version, Component: o.Component, State: e.State}
			at[j] = readPlace{m.Resource, ref.Namespace}
		}
	}
	places := map[readPlace][]int{}
	for j, ch := range sg.changes {
		if ch.State != "" {
			places[at[j]] = append(places[at[j]], j)
		}
	}
	for p, idx := range places {
		names := make([]string, len(idx))
		for i, j := range idx {
			names[i] = sg.changes[j].Ref.Name
		}
		states, err := d.states(ctx, p, names)
		for _, j := range idx {
			if err == nil && states[sg.changes[j].Ref.Name] == sg.changes[j].State {
				sg.changes[j].Action = change.Unchanged
			} else {
				sg.changes[j] = Change{}
			}
		}
	}
	return sg
}

// Digests are the seal digests (seal.Memo.Plan) of a stack's objects,
// made on every worker, each kind's mapping and types looked up once: ""
// where an object is not sealed (no seals, or its kind's types are
// unknown, or admission may change it as it is written: ssa.Merger.Types;
// a seal made before a mutating webhook came would hide what it does).
// mappings holds each kind's mapping, nil where the cluster serves none.
// A diff compares the digests with the seals it had; the writer seals
// what it wrote with them.
func Digests(ctx context.Context, c *kube.Clients, s render.Stack, opts Options) (plans []string, mappings map[schema.GroupVersionKind]*meta.RESTMapping) {
	mappings = map[schema.GroupVersionKind]*meta.RESTMapping{}
	types := map[schema.GroupVersionKind]string{}
	for _, o := range s.Objects {
		gvk := o.GroupVersionKind()
		if _, ok := mappings[gvk]; ok {
			continue
		}
		m, err := c.Mapping(gvk)
		if err != nil {
			m = nil
		}
		mappings[gvk] = m
		if m != nil && opts.Merger != nil {
			types[gvk] = opts.Merger.Types(m.Resource.GroupResource(), gvk)
		}
	}
	plans = make([]string, len(s.Objects))
	if opts.Seals == nil {
		return plans, mappings
	}
	kube.Parallel(ctx, opts.Workers, len(s.Objects), func(j int) {
		o := s.Objects[j]
		if t := types[o.GroupVersionKind()]; t != "" {
			plans[j], _ = opts.Seals.Plan(s.Name, o.Unstructured, t)
		}
	})
	return plans, mappings
}

// holds returns the change of object j when its seal holds.
func (sg sealing) holds(j int) (Change, bool) {
	if sg.changes == nil || sg.changes[j].Action != change.Unchanged {
		return Change{}, false
	}
	return sg.changes[j], true
}

// states reads the metadata of the named objects of one place: their
// states by name (seal.Of), absent for an object that does not exist.
// Many are listed, few are read one by one.
func (d *differ) states(ctx context.Context, p readPlace, names []string) (map[string]string, error) {
	ri := d.c.Metadata.Resource(p.gvr).Namespace(p.ns)
	out := make(map[string]string, len(names))
	if len(names) < kube.ListThreshold {
		for _, name := range names {
			o, err := ri.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, err // a missing object too: the place is diffed
			}
			out[name] = seal.Of(o)
		}
		return out, nil
	}
	list, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		out[list.Items[i].Name] = seal.Of(&list.Items[i])
	}
	return out, nil
}

// reseal stores the seals of a stack's objects the diff found unchanged,
// at the states it found them in. An object that changes keeps the seal
// it had (true still of the plan it was made for, which a later run may
// bring back); one the stack no longer renders loses its. A diff computed
// on the client (read-only) seals nothing: the server's admission is not
// in it.
func (d *differ) reseal(ctx context.Context, s render.Stack, changes []Change, sg sealing) {
	if d.opts.Seals == nil || d.readOnly.Load() {
		return
	}
	if sg.plans == nil && slices.ContainsFunc(changes, func(ch Change) bool { return ch.State != "" }) {
		sg.plans, _ = Digests(ctx, d.c, s, d.opts)
	}
	out := make(seal.Seals, len(changes))
	for j, ch := range changes {
		key := seal.Key(ch.Ref)
		if e, ok := sg.had[key]; ok {
			out[key] = e
		}
		if ch.Action != change.Unchanged || ch.State == "" || ch.Conflict != change.NoConflict || ch.Reattach {
			continue
		}
		if plan := sg.plans[j]; plan != "" {
			out[key] = seal.Entry{Plan: plan, State: ch.State}
		}
	}
	if !maps.Equal(out, sg.had) {
		_ = d.opts.Seals.Store(s.Name, out) // only ever a shortcut
	}
}
