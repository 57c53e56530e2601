package apply

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// EventType says what an Event is about.
type EventType string

// The event types.
const (
	StackStarted  EventType = "stack-started"
	ObjectEvent   EventType = "object"
	StackFinished EventType = "stack-finished"
	Warning       EventType = "warning"
)

// Op is what was done to an object.
type Op string

// The operations.
const (
	OpApply  Op = "apply"
	OpPrune  Op = "prune"
	OpDelete Op = "delete"
	OpWait   Op = "wait"
)

// Object statuses.
const (
	Created    = "created"
	Configured = "configured"
	Unchanged  = "unchanged"
	Deleted    = "deleted"
	Detached   = "detached"
	Skipped    = "skipped"
	Failed     = "failed"
	Current    = "current"
	Timeout    = "timeout"
	Pending    = "pending"
)

// Ref names an object.
type Ref struct {
	GroupKind schema.GroupKind
	Namespace string
	Name      string
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.GroupKind.Kind + " " + r.Name
	}
	return fmt.Sprintf("%s %s/%s", r.GroupKind.Kind, r.Namespace, r.Name)
}

// Event is one step of a run. Error messages are already masked.
type Event struct {
	Type    EventType
	Stack   string
	Object  Ref
	Op      Op
	Status  string
	Message string
	Err     error
	// Summary is set on StackFinished.
	Summary *StackSummary
}

// StackSummary counts what happened to one stack.
type StackSummary struct {
	Stack      string
	Created    int
	Configured int
	Unchanged  int
	Deleted    int
	Detached   int
	Failed     int
	// Unhealthy counts objects not Current when the wait ended.
	Unhealthy int
	// NoOp is true when the stack had nothing to change and cli-utils was
	// not needed.
	NoOp     bool
	Duration time.Duration
}

// Result is a whole run.
type Result struct {
	Stacks []StackSummary
	// Detached lists what pruning left in the cluster.
	Detached []Ref
	DryRun   bool
}
