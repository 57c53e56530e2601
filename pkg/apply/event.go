package apply

import (
	"kcloud.dev/kcloud/pkg/change"
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

// Op is the step of a run an object event belongs to.
type Op string

// The operations.
const (
	OpApply  Op = "apply"
	OpPrune  Op = "prune"
	OpDelete Op = "delete"
	OpWait   Op = "wait"
	// OpUndo puts back what a run wrote before the server rejected an
	// object of it.
	OpUndo Op = "undo"
)

// Outcome is how an operation on one object ended.
type Outcome string

// The outcomes.
const (
	// Done: the action was carried out (or, in a dry run, would be).
	Done    Outcome = "done"
	Skipped Outcome = "skipped"
	Failed  Outcome = "failed"
	// Current and Timeout end a wait.
	Current Outcome = "current"
	Timeout Outcome = "timeout"
)

// Event is one step of a run. Error messages are already masked.
type Event struct {
	Type   EventType
	Stack  string
	Object change.Ref
	Op     Op
	// Action is what was done to the object when Outcome is Done.
	Action  change.Action
	Outcome Outcome
	// DryRun marks what a dry run would have done.
	DryRun  bool
	Message string
	Err     error
	// Summary is set on StackFinished.
	Summary *change.Summary
}

// Status is the event's outcome in words: "created", "deleted (dry run)",
// "failed", "current"…
func (e Event) Status() string {
	if e.Outcome != Done {
		return string(e.Outcome)
	}
	s := e.Action.Done()
	if e.DryRun {
		s += " (dry run)"
	}
	return s
}

// Result is a whole run.
type Result struct {
	Stacks []change.Summary
	// Detached lists what pruning left in the cluster.
	Detached []change.Ref
	// Undone lists what the run wrote and undid when the server rejected
	// one of its objects (see RejectedError).
	Undone []change.Ref
	DryRun bool
}
