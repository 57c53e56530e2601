package apply

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/cli-utils/pkg/object"
	"sigs.k8s.io/cli-utils/pkg/object/dependson"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/render"
)

// item is one object the writer sends: the rendered object (shared with
// the plan, never copied), where it lives, and what the plan does to it.
type item struct {
	obj     render.Object
	ref     change.Ref
	mapping *meta.RESTMapping
	action  change.Action
}

// wave is a group of objects written in parallel; the next wave starts once
// it is written (and, for CRDs, Established; with --wait, for what the
// next wave depends on, healthy).
type wave struct {
	items []item
	// crds is set when the wave holds CRDs: the next wave waits until they
	// are Established and reads discovery again.
	crds bool
	// needed are the objects of this wave a later wave depends on.
	needed []change.Ref
}

// waves orders a stack's writes: Namespaces and CRDs first, then the other
// objects by depends-on level (an object comes after every object of the
// write set it depends on; dependencies outside the set exist unchanged).
// A stack split into phases (hooks, a chart's CRDs) is a list of such
// stacks, each written with its own waves.
func waves(items []item) []wave {
	var first wave
	rest := make([]item, 0, len(items))
	for _, it := range items {
		switch it.ref.GroupKind {
		case render.CRDGK:
			first.crds = true
			first.items = append(first.items, it)
		case render.NamespaceGK:
			first.items = append(first.items, it)
		default:
			rest = append(rest, it)
		}
	}
	var out []wave
	if len(first.items) > 0 {
		out = append(out, first)
	}
	return append(out, dependsOnLevels(rest)...)
}

// dependsOnLevels splits items by depends-on level. A dependency cycle or
// an unreadable annotation puts the object in the last level: the server
// still validates it, and cli-utils' own validation is not repeated here.
func dependsOnLevels(items []item) []wave {
	if len(items) == 0 {
		return nil
	}
	index := make(map[object.ObjMetadata]int, len(items))
	deps := make([][]int, len(items))
	hasDeps := false
	for i, it := range items {
		index[it.ref.ID()] = i
	}
	for i, it := range items {
		ds, err := dependson.ReadAnnotation(it.obj.Unstructured)
		if err != nil {
			continue
		}
		for _, d := range ds {
			if j, ok := index[d]; ok && j != i {
				deps[i] = append(deps[i], j)
				hasDeps = true
			}
		}
	}
	if !hasDeps {
		return []wave{{items: items}}
	}
	level := make([]int, len(items))
	state := make([]int, len(items)) // 0 new, 1 visiting, 2 done
	var visit func(i int) int
	visit = func(i int) int {
		switch state[i] {
		case 1:
			return len(items) // a cycle: last
		case 2:
			return level[i]
		}
		state[i] = 1
		for _, j := range deps[i] {
			level[i] = max(level[i], visit(j)+1)
		}
		state[i] = 2
		return level[i]
	}
	top := 0
	for i := range items {
		top = max(top, visit(i))
	}
	return groupLevels(items, level, deps, top)
}

// groupLevels puts items into one wave per level in use, noting in each
// wave what later waves depend on.
func groupLevels(items []item, level []int, deps [][]int, top int) []wave {
	byLevel := make([]wave, top+1)
	for i, it := range items {
		byLevel[level[i]].items = append(byLevel[level[i]].items, it)
	}
	needed := map[int]bool{}
	for i := range items {
		for _, j := range deps[i] {
			needed[j] = true
		}
	}
	for j := range needed {
		byLevel[level[j]].needed = append(byLevel[level[j]].needed, items[j].ref)
	}
	out := byLevel[:0]
	for _, w := range byLevel {
		if len(w.items) > 0 {
			out = append(out, w)
		}
	}
	return out
}
