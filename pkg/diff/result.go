package diff

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
)

// Change is the planned change of one object.
type Change struct {
	Stack  string
	Action change.Action
	// Ref names the object; its namespace is as the server sees it (a
	// namespaced object that names no namespace is in "default").
	Ref change.Ref
	// Version is the API version of the object's group the change was
	// computed at; empty for a prune candidate whose kind is not served.
	Version string
	// Component rendered the object; empty for prune candidates.
	Component string
	// Diff is a unified diff of the normalised, masked YAML, live first,
	// when set by whoever built the Change; Text renders it otherwise.
	Diff string
	// Note explains an action where the reason is not obvious; for people.
	Note string
	// Conflict says why apply would refuse the object.
	Conflict change.Conflict
	// Reattach is set when the live object is one kcloud detached earlier
	// (its labels, no inventory): apply takes it back into the inventory.
	Reattach bool
	// Unverified is set when the server could not dry-run the object (its
	// CRD or namespace is created by the plan): apply plans its stack again
	// once the earlier stacks are applied.
	Unverified bool
	// ClientSide is set when the change was computed on the client, with
	// no dry run (a read-only diff): the server's defaulting and admission
	// are not in it.
	ClientSide bool
	// State is the live object's UID and resourceVersion (seal.Of) when
	// it is Unchanged: what its seal pins.
	State string
	// Before and After are the normalised, masked live and planned
	// objects; nil when absent, and when Options.Texts rendered Diff.
	Before, After *unstructured.Unstructured

	// from and to label the sides of the unified diff Text renders from
	// Before and After; empty when the change has none (unchanged,
	// detached, not decided).
	from, to string
}

// Text is the change's unified diff of the normalised, masked YAML, live
// first; empty when unchanged or detached. It is rendered when asked for,
// each time: a diff that prints no text (apply, -o json) never pays for it.
func (c Change) Text() (string, error) {
	if c.Diff != "" || c.from == "" {
		return c.Diff, nil
	}
	return unifiedLabeled(c.Ref, c.from, c.to, c.Before, c.After)
}

// rendered is c with its text rendered into Diff and its objects
// dropped (Options.Texts).
func (c Change) rendered() (Change, error) {
	text, err := c.Text()
	if err != nil {
		return c, err
	}
	c.Diff, c.from, c.to, c.Before, c.After = text, "", "", nil, nil
	return c, nil
}

// APIVersion is the object's apiVersion (group/version).
func (c Change) APIVersion() string {
	return schema.GroupVersion{Group: c.Ref.GroupKind.Group, Version: c.Version}.String()
}

// Changed reports whether applying would change the cluster.
func (c Change) Changed() bool { return c.Action.Changed() }

// Inventory is what a stack's inventory listed when the diff read it.
type Inventory struct {
	Objects []change.Ref
	// Found is false when the stack has no inventory yet.
	Found bool
}

// Result is a whole diff and what it read.
type Result struct {
	// Stacks are the stacks looked at, in apply order (prune-only stacks of
	// removed environments last).
	Stacks []string
	// Changes are in stack order, then render order, prunes last.
	Changes []Change
	// Inventories are the inventories of Stacks as read.
	Inventories map[string]Inventory
	// ClientSide is set when the diff sent no dry runs (read-only): each
	// change was computed on the client.
	ClientSide bool
	// Orphans are the selected stacks whose inventory exists while the plan
	// renders no such stack (a removed environment), in apply order.
	Orphans []string

	// live holds the live objects read, unmasked (nil: known absent). Never
	// print them; Live hands them to whoever reuses the reads.
	live map[change.Ref]*unstructured.Unstructured
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
func (r *Result) Summary() []change.Summary {
	idx := map[string]int{}
	out := make([]change.Summary, 0, len(r.Stacks))
	for _, s := range r.Stacks {
		idx[s] = len(out)
		out = append(out, change.Summary{Stack: s})
	}
	for _, c := range r.Changes {
		i, ok := idx[c.Stack]
		if !ok {
			i = len(out)
			idx[c.Stack] = i
			out = append(out, change.Summary{Stack: c.Stack})
		}
		out[i].Count(c.Action)
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

// Live calls f with the live object of every change that is not
// Unchanged, unmasked (nil: the object does not exist), when
// Options.KeepLive asked to keep them. For callers that reuse the reads;
// never print them.
func (r *Result) Live(f func(change.Ref, *unstructured.Unstructured)) {
	for k, v := range r.live {
		f(k, v)
	}
}
