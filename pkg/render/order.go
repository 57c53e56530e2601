package render

import "sort"

// mergeNamespaces folds a Namespace a component renders into the one kcloud
// generates anyway, whatever stack either is in: its labels and annotations
// join kcloud's own, which win.
func (r *renderer) mergeNamespaces(stacks []Stack) {
	gen := r.tabs.Labels.GeneratedComponent
	generated := map[string]Object{}
	for _, s := range stacks {
		for _, o := range s.Objects {
			if o.Component == gen && o.GetKind() == "Namespace" {
				generated[o.GetName()] = o
			}
		}
	}
	for i := range stacks {
		kept := stacks[i].Objects[:0]
		for _, o := range stacks[i].Objects {
			g, ok := generated[o.GetName()]
			if !ok || o.Component == gen || o.GetKind() != "Namespace" || o.GroupVersionKind().Group != "" {
				kept = append(kept, o)
				continue
			}
			g.SetLabels(mergeMap(g.GetLabels(), o.GetLabels()))
			g.SetAnnotations(mergeMap(g.GetAnnotations(), o.GetAnnotations()))
		}
		stacks[i].Objects = kept
	}
}

// mergeMap adds the entries of extra that base does not have.
func mergeMap(base, extra map[string]string) map[string]string {
	if base == nil {
		base = map[string]string{}
	}
	for k, v := range extra {
		if _, ok := base[k]; !ok {
			base[k] = v
		}
	}
	if len(base) == 0 {
		return nil
	}
	return base
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortObjects puts objects in apply order: kinds others depend on first
// (namespaces, CRDs, storage, RBAC), then by kind, namespace and name.
func sortObjects(objs []Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if ka, kb := kindRank(a.GetKind()), kindRank(b.GetKind()); ka != kb {
			return ka < kb
		}
		if a.GetKind() != b.GetKind() {
			return a.GetKind() < b.GetKind()
		}
		if ga, gb := a.GroupVersionKind().Group, b.GroupVersionKind().Group; ga != gb {
			return ga < gb
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

func kindRank(kind string) int {
	for i, k := range applyOrder {
		if k == kind {
			return i
		}
	}
	for i, k := range lastKinds {
		if k == kind {
			return len(applyOrder) + 1 + i
		}
	}
	return len(applyOrder)
}
