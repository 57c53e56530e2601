package diff

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// CompareOptions tune Compare.
type CompareOptions struct {
	// Tables give the retention policy; required.
	Tables *spec.Tables
	// AllowDataLoss shows deletes where apply would otherwise detach.
	AllowDataLoss bool
	// From and To label the two sides in unified diffs, such as a git ref
	// and "working-tree"; default "before" and "after".
	From, To string
}

// offlineKey matches an object across two renders: the version may change.
type offlineKey struct {
	stack           string
	gk              schema.GroupKind
	namespace, name string
}

func keyOf(stack string, u *unstructured.Unstructured) offlineKey {
	return offlineKey{stack, u.GroupVersionKind().GroupKind(), u.GetNamespace(), u.GetName()}
}

// Compare diffs two renders of a spec tree with no cluster: before (the
// tree at a git ref, say) and after (the working tree). Objects are matched
// by stack, kind, namespace and name, normalised and compared; objects only
// before are deletes, or detaches where the retention policy protects them.
// Secret values are masked on both sides. The Result has no inventories
// and no live objects.
func Compare(before, after *render.Result, opts CompareOptions) (*Result, error) {
	if opts.Tables == nil {
		return nil, fmt.Errorf("compare: no tables")
	}
	if opts.From == "" {
		opts.From = "before"
	}
	if opts.To == "" {
		opts.To = "after"
	}
	old := map[offlineKey]*unstructured.Unstructured{}
	for _, s := range before.Stacks {
		for _, o := range s.Objects {
			old[keyOf(s.Name, o.Unstructured)] = o.Unstructured
		}
	}
	res := &Result{Inventories: map[string]Inventory{}}
	rendered := map[string]bool{}
	for _, s := range after.Stacks {
		res.Stacks = append(res.Stacks, s.Name)
		rendered[s.Name] = true
		for _, o := range s.Objects {
			k := keyOf(s.Name, o.Unstructured)
			ch, err := compareObject(k, old[k], o.Unstructured, opts)
			if err != nil {
				return nil, err
			}
			ch.Component = o.Component
			res.Changes = append(res.Changes, ch)
			delete(old, k)
		}
	}
	// What only the old render has, in its order.
	for _, s := range before.Stacks {
		if !rendered[s.Name] && after.Selection.Match(s.Name) {
			res.Stacks = append(res.Stacks, s.Name)
			res.Orphans = append(res.Orphans, s.Name)
		}
		for _, o := range s.Objects {
			k := keyOf(s.Name, o.Unstructured)
			if _, gone := old[k]; !gone || !after.Selection.Match(s.Name) {
				continue
			}
			ch, err := compareObject(k, o.Unstructured, nil, opts)
			if err != nil {
				return nil, err
			}
			res.Changes = append(res.Changes, ch)
		}
	}
	return res, nil
}

// compareObject compares one object's two renders; either may be nil.
func compareObject(k offlineKey, before, after *unstructured.Unstructured, opts CompareOptions) (Change, error) {
	ch := Change{Stack: k.stack, Namespace: k.namespace, Name: k.name}
	b, a := Normalize(before), Normalize(after)
	redact.MaskSecrets(b, a)
	ch.Before, ch.After = b, a
	switch {
	case a == nil:
		ch.GVK = before.GroupVersionKind()
		ch.Action = change.Delete
		if opts.Tables.Retention.Protects(before.GetKind(), before.GetAnnotations()) && !opts.AllowDataLoss {
			ch.Action = change.Detach
			ch.Note = "no longer rendered; apply detaches it (leaves it in place) unless --allow-data-loss"
			return ch, nil
		}
	case b == nil:
		ch.GVK = after.GroupVersionKind()
		ch.Action = change.Create
	default:
		ch.GVK = after.GroupVersionKind()
		ch.Action = change.Unchanged
		if equality.Semantic.DeepEqual(b.Object, a.Object) {
			return ch, nil
		}
		ch.Action = change.Update
	}
	var err error
	ch.Diff, err = unifiedLabeled(ch.Ref(), opts.From, opts.To, b, a)
	return ch, err
}
