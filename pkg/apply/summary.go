package apply

import "kcloud.dev/kcloud/pkg/change"

// tally derives one stack's Summary from the events of its run, as
// cli-utils derives its stats from its event stream: nothing is counted
// beside the events. Each object counts once, with its last action — an
// object a first pass created and the second found unchanged was created,
// one pruning detached and --allow-data-loss then deleted was deleted —
// and as failed, or unhealthy, once.
type tally struct {
	stack     string
	actions   map[change.Ref]change.Action
	failed    map[change.Ref]bool
	unhealthy map[change.Ref]bool
	// noOp is set when the last pass over the stack had nothing to change
	// and left cli-utils out.
	noOp bool
}

func newTally(stack string) *tally {
	return &tally{stack: stack, actions: map[change.Ref]change.Action{}, failed: map[change.Ref]bool{}, unhealthy: map[change.Ref]bool{}}
}

// add counts one event of the stack.
func (t *tally) add(e Event) {
	if e.Type != ObjectEvent {
		return
	}
	switch {
	case e.Outcome == Done && e.Action != "":
		if prev := t.actions[e.Object]; e.Action == change.Unchanged && prev.Changed() {
			return
		}
		t.actions[e.Object] = e.Action
	case e.Op == OpWait && (e.Outcome == Failed || e.Outcome == Timeout):
		t.unhealthy[e.Object] = true
	case e.Outcome == Failed:
		t.failed[e.Object] = true
	}
}

// summary is what the events counted so far add up to.
func (t *tally) summary() change.Summary {
	s := change.Summary{Stack: t.stack, Failed: len(t.failed), Unhealthy: len(t.unhealthy)}
	for _, a := range t.actions {
		s.Count(a)
	}
	s.NoOp = t.noOp && s.Changes() == 0
	return s
}
