package change

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/object"
)

// Ref names one object: the one identity type of kcloud's packages.
// cli-utils' object.ObjMetadata is the same triple; it is converted to and
// from at the calls into cli-utils only (ID, RefFromID, IDs, Refs).
type Ref struct {
	GroupKind schema.GroupKind
	Namespace string
	Name      string
}

// NewRef returns the reference of an object of gk.
func NewRef(gk schema.GroupKind, namespace, name string) Ref {
	return Ref{GroupKind: gk, Namespace: namespace, Name: name}
}

// RefOf returns the reference of obj.
func RefOf(obj *unstructured.Unstructured) Ref {
	return NewRef(obj.GroupVersionKind().GroupKind(), obj.GetNamespace(), obj.GetName())
}

// RefFromID converts cli-utils' object identifier.
func RefFromID(id object.ObjMetadata) Ref { return NewRef(id.GroupKind, id.Namespace, id.Name) }

// ID returns cli-utils' identifier of the object, as inventories list it.
func (r Ref) ID() object.ObjMetadata {
	return object.ObjMetadata{GroupKind: r.GroupKind, Namespace: r.Namespace, Name: r.Name}
}

// Refs converts cli-utils' identifiers, in order.
func Refs(ids object.ObjMetadataSet) []Ref {
	out := make([]Ref, len(ids))
	for i, id := range ids {
		out[i] = RefFromID(id)
	}
	return out
}

// IDs converts refs to cli-utils' identifiers, in order.
func IDs(refs []Ref) object.ObjMetadataSet {
	out := make(object.ObjMetadataSet, len(refs))
	for i, r := range refs {
		out[i] = r.ID()
	}
	return out
}

// String is "Kind namespace/name", or "Kind name" for cluster-scoped objects.
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.GroupKind.Kind + " " + r.Name
	}
	return fmt.Sprintf("%s %s/%s", r.GroupKind.Kind, r.Namespace, r.Name)
}

// Action is what a plan does to one object, and what an apply did.
type Action string

// The actions, in the order summaries show them.
const (
	Create    Action = "create"
	Update    Action = "update"
	Delete    Action = "delete"
	Detach    Action = "detach" // pruned from the inventory, left in the cluster
	Unchanged Action = "unchanged"
	// Reattach takes an object kcloud detached earlier back into a stack's
	// inventory; only apply reports it.
	Reattach Action = "reattach"
)

// Done is the past tense an apply reports an action with.
func (a Action) Done() string {
	switch a {
	case Create:
		return "created"
	case Update:
		return "configured"
	case Delete:
		return "deleted"
	case Detach:
		return "detached"
	case Reattach:
		return "reattached"
	}
	return string(a)
}

// Changed reports whether the action changes the cluster.
func (a Action) Changed() bool { return a != Unchanged && a != "" }

// Conflict says why a planned object cannot be applied as it is.
type Conflict string

// The conflicts.
const (
	// NoConflict: the object is this stack's, or new.
	NoConflict Conflict = ""
	// Unmanaged: it exists and no inventory owns it; --adopt takes it over.
	Unmanaged Conflict = "unmanaged"
	// OtherInventory: another stack's inventory owns it.
	OtherInventory Conflict = "other-inventory"
)

// Blocks reports whether apply refuses the object; adopt takes over
// objects no inventory owns.
func (c Conflict) Blocks(adopt bool) bool {
	return c == OtherInventory || (c == Unmanaged && !adopt)
}

// Summary counts what a plan would do to, or an apply did to, one stack.
// It is derived, never counted beside: from a diff's changes
// (diff.Result.Summary), from an apply's events (pkg/apply's tally).
type Summary struct {
	Stack     string
	Create    int
	Update    int
	Unchanged int
	Delete    int
	Detach    int
	// Failed counts objects the apply could not apply or delete.
	Failed int
	// Unhealthy counts objects not Current when the wait ended.
	Unhealthy int
	// NoOp is true when apply had nothing to change and left cli-utils out.
	NoOp     bool
	Duration time.Duration
}

// Count adds one action.
func (s *Summary) Count(a Action) {
	switch a {
	case Create:
		s.Create++
	case Update, Reattach:
		s.Update++
	case Delete:
		s.Delete++
	case Detach:
		s.Detach++
	default:
		s.Unchanged++
	}
}

// Add adds another summary's counts (not its duration or NoOp): totals
// over stacks.
func (s *Summary) Add(o Summary) {
	s.Create += o.Create
	s.Update += o.Update
	s.Unchanged += o.Unchanged
	s.Delete += o.Delete
	s.Detach += o.Detach
	s.Failed += o.Failed
	s.Unhealthy += o.Unhealthy
}

// Changes counts what changes the cluster.
func (s Summary) Changes() int { return s.Create + s.Update + s.Delete + s.Detach }

// Total is the number of objects counted.
func (s Summary) Total() int { return s.Changes() + s.Unchanged }
