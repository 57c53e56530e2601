package diff

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// CompareOptions tune Compare. The retention policy comes from the after
// plan's Tables.
type CompareOptions struct {
	// AllowDataLoss shows deletes where apply would otherwise detach.
	AllowDataLoss bool
	// From and To label the two sides in unified diffs, such as a git ref
	// and "working-tree"; default "before" and "after".
	From, To string
}

// Compare diffs two renders of a spec tree with no cluster: before (the
// tree at a git ref, say) and after (the working tree). Objects are matched
// by stack, kind, namespace and name, normalised and compared; objects only
// before are deletes, or detaches where the retention policy protects them.
// Secret values are masked on both sides. The Result has no inventories
// and no live objects.
func Compare(before, after *render.Result, opts CompareOptions) (*Result, error) {
	if after.Tables == nil {
		return nil, fmt.Errorf("compare: the plan has no tables")
	}
	if opts.From == "" {
		opts.From = "before"
	}
	if opts.To == "" {
		opts.To = "after"
	}
	// The objects of the old render, by stack: an object is matched by
	// its Ref (its version may change).
	old := map[string]map[change.Ref]*unstructured.Unstructured{}
	for _, s := range before.Stacks {
		old[s.Name] = make(map[change.Ref]*unstructured.Unstructured, len(s.Objects))
		for _, o := range s.Objects {
			old[s.Name][change.RefOf(o.Unstructured)] = o.Unstructured
		}
	}
	res := &Result{Inventories: map[string]Inventory{}}
	rendered := map[string]bool{}
	for _, s := range after.Stacks {
		res.Stacks = append(res.Stacks, s.Name)
		rendered[s.Name] = true
		for _, o := range s.Objects {
			ref := change.RefOf(o.Unstructured)
			ch, err := compareObject(after.Tables, s.Name, ref, old[s.Name][ref], o.Unstructured, opts)
			if err != nil {
				return nil, err
			}
			ch.Component = o.Component
			res.Changes = append(res.Changes, ch)
			delete(old[s.Name], ref)
		}
	}
	// What only the old render has, in its order.
	for _, s := range before.Stacks {
		if !rendered[s.Name] && after.Selection.Match(s.Name) {
			res.Stacks = append(res.Stacks, s.Name)
			res.Orphans = append(res.Orphans, s.Name)
		}
		for _, o := range s.Objects {
			ref := change.RefOf(o.Unstructured)
			if _, gone := old[s.Name][ref]; !gone || !after.Selection.Match(s.Name) {
				continue
			}
			ch, err := compareObject(after.Tables, s.Name, ref, o.Unstructured, nil, opts)
			if err != nil {
				return nil, err
			}
			if !rendered[s.Name] {
				ch = orphaned([]Change{ch})[0]
			}
			res.Changes = append(res.Changes, ch)
		}
	}
	return res, nil
}

// compareObject compares one object's two renders; either may be nil.
func compareObject(tables *spec.Tables, stack string, ref change.Ref, before, after *unstructured.Unstructured, opts CompareOptions) (Change, error) {
	ch := Change{Stack: stack, Ref: ref}
	b, a := Normalize(before), Normalize(after)
	redact.MaskSecrets(b, a)
	ch.Before, ch.After = b, a
	switch {
	case a == nil:
		ch.Version = before.GroupVersionKind().Version
		ch.Action = change.Delete
		if tables.Retention.Protects(before.GetKind(), before.GetAnnotations()) && !opts.AllowDataLoss {
			ch.Action = change.Detach
			ch.Note = "no longer rendered; apply detaches it (leaves it in place) unless --allow-data-loss"
			return ch, nil
		}
	case b == nil:
		ch.Version = after.GroupVersionKind().Version
		ch.Action = change.Create
	default:
		ch.Version = after.GroupVersionKind().Version
		ch.Action = change.Unchanged
		if equality.Semantic.DeepEqual(b.Object, a.Object) {
			return ch, nil
		}
		ch.Action = change.Update
	}
	ch.from, ch.to = opts.From, opts.To
	return ch, nil
}
