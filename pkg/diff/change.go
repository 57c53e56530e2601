package diff

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Action is what an apply would do to one object.
type Action string

// The actions, in the order summaries show them.
const (
	Create    Action = "create"
	Update    Action = "update"
	Delete    Action = "delete"
	Detach    Action = "detach" // pruned from the inventory, left in the cluster
	Unchanged Action = "unchanged"
)

// Change is the planned change of one object.
type Change struct {
	Stack     string
	Action    Action
	GVK       schema.GroupVersionKind
	Namespace string
	Name      string
	// Component rendered the object; empty for prune candidates.
	Component string
	// Diff is a unified diff of the normalised, masked YAML, live first;
	// empty when unchanged or detached.
	Diff string
	// Note explains an action where the reason is not obvious.
	Note string
	// Reattach is set when the live object is one kcloud detached earlier
	// (its labels, no inventory): apply takes it back into the inventory.
	Reattach bool
	// Before and After are the normalised, masked live and planned
	// objects; nil when absent.
	Before, After *unstructured.Unstructured
}

// Ref names the object: Kind namespace/name, or Kind name.
func (c Change) Ref() string {
	if c.Namespace == "" {
		return c.GVK.Kind + " " + c.Name
	}
	return fmt.Sprintf("%s %s/%s", c.GVK.Kind, c.Namespace, c.Name)
}

// Changed reports whether applying would change the cluster.
func (c Change) Changed() bool { return c.Action != Unchanged }

// StackSummary counts a stack's changes.
type StackSummary struct {
	Stack                                     string
	Create, Update, Delete, Detach, Unchanged int
}

// Total is the number of objects counted.
func (s StackSummary) Total() int { return s.Create + s.Update + s.Delete + s.Detach + s.Unchanged }

// Result is a whole diff.
type Result struct {
	// Stacks are the stacks looked at, in apply order (prune-only stacks of
	// removed environments last).
	Stacks []string
	// Changes are in stack order, then render order, prunes last.
	Changes []Change
}

// HasChanges reports whether applying would change anything.
func (r *Result) HasChanges() bool {
	for _, c := range r.Changes {
		if c.Changed() {
			return true
		}
	}
	return false
}

// Summary counts the changes of each stack, in stack order.
func (r *Result) Summary() []StackSummary {
	idx := map[string]int{}
	out := make([]StackSummary, 0, len(r.Stacks))
	for _, s := range r.Stacks {
		idx[s] = len(out)
		out = append(out, StackSummary{Stack: s})
	}
	for _, c := range r.Changes {
		i, ok := idx[c.Stack]
		if !ok {
			idx[c.Stack] = len(out)
			i = len(out)
			out = append(out, StackSummary{Stack: c.Stack})
		}
		s := &out[i]
		switch c.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Delete:
			s.Delete++
		case Detach:
			s.Detach++
		default:
			s.Unchanged++
		}
	}
	return out
}

// Stack returns the changes of one stack.
func (r *Result) Stack(name string) []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Stack == name {
			out = append(out, c)
		}
	}
	return out
}
