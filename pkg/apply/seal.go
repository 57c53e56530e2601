package apply

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/seal"
)

// seal stores the seals of a stack the writer wrote: what it sent at the
// states the server answered with, what it kept at the states the diff
// found them in; the seals of what the stack no longer renders are
// dropped. Not of an object admission may change as it is written
// (writing it again may change it again) or whose types the merge does
// not know, nor on a dry run; a seal that cannot be stored only costs the
// next run its shortcut.
func (r *runner) seal(ctx context.Context, s render.Stack, changes []diff.Change) {
	if r.opts.Seals == nil || r.opts.Merger == nil || r.opts.DryRun {
		return
	}
	had := r.opts.Seals.Load(s.Name)
	kept := make(map[change.Ref]string, len(changes))
	for _, ch := range changes {
		if ch.Action == change.Unchanged && ch.Conflict == change.NoConflict {
			kept[ch.Ref] = ch.State
		}
	}
	plans, mappings := diff.Digests(ctx, r.c, s, r.opts.diff())
	out := make(seal.Seals, len(s.Objects))
	for i, o := range s.Objects {
		ref := serverRef(o, mappings[o.GroupVersionKind()])
		key := seal.Key(ref)
		state := kept[ref]
		if v, ok := r.written.Load(ref); ok {
			state = v.(string)
		} else if e, ok := had[key]; ok {
			out[key] = e // not written: its seal is as true as it was
		}
		if state != "" && plans[i] != "" {
			out[key] = seal.Entry{Plan: plans[i], State: state}
		}
	}
	_ = r.opts.Seals.Store(s.Name, out)
}

// serverRef is the ref of a planned object as the server names it: a
// namespaced object (m, when known) that names no namespace is in
// "default".
func serverRef(o render.Object, m *meta.RESTMapping) change.Ref {
	ref := change.RefOf(o.Unstructured)
	if ref.Namespace == "" && m != nil && m.Scope.Name() == meta.RESTScopeNameNamespace {
		ref.Namespace = metav1.NamespaceDefault
	}
	return ref
}
