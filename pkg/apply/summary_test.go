package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
)

func TestTallyDerivesTheSummaryFromTheEvents(t *testing.T) {
	ref := func(name string) change.Ref {
		return change.Ref{GroupKind: schema.GroupKind{Kind: "ConfigMap"}, Namespace: "ns", Name: name}
	}
	done := func(name string, a change.Action) Event {
		return Event{Type: ObjectEvent, Stack: "l1", Object: ref(name), Op: OpApply, Action: a, Outcome: Done}
	}
	wait := func(name string, o Outcome) Event {
		return Event{Type: ObjectEvent, Stack: "l1", Object: ref(name), Op: OpWait, Outcome: o}
	}
	for _, tc := range []struct {
		name   string
		events []Event
		noOp   bool
		want   change.Summary
	}{
		{
			name:   "one action each",
			events: []Event{done("a", change.Create), done("b", change.Update), done("c", change.Unchanged), done("d", change.Delete), done("e", change.Detach)},
			want:   change.Summary{Create: 1, Update: 1, Unchanged: 1, Delete: 1, Detach: 1},
		},
		{
			name:   "a first pass's create is not undone by the second pass's unchanged",
			events: []Event{done("crd", change.Create), done("crd", change.Unchanged), done("cr", change.Create)},
			want:   change.Summary{Create: 2},
		},
		{
			name:   "a detach that --allow-data-loss then deletes is a delete",
			events: []Event{done("pvc", change.Detach), {Type: ObjectEvent, Stack: "l1", Object: ref("pvc"), Op: OpDelete, Action: change.Delete, Outcome: Done}},
			want:   change.Summary{Delete: 1},
		},
		{
			name:   "a reattach is an update",
			events: []Event{done("a", change.Reattach), done("a", change.Update)},
			want:   change.Summary{Update: 1},
		},
		{
			name: "failures and unhealthy objects count once each",
			events: []Event{
				{Type: ObjectEvent, Stack: "l1", Object: ref("a"), Op: OpApply, Action: change.Update, Outcome: Failed},
				done("b", change.Create), wait("b", Timeout), wait("b", Failed), wait("c", Current),
				{Type: Warning, Stack: "l1", Object: ref("d"), Op: OpWait, Message: "still being deleted"},
			},
			want: change.Summary{Create: 1, Failed: 1, Unhealthy: 1},
		},
		{
			name:   "no-op pass",
			events: []Event{done("a", change.Unchanged)},
			noOp:   true,
			want:   change.Summary{Unchanged: 1, NoOp: true},
		},
		{
			name:   "no-op second pass after a first pass that changed something",
			events: []Event{done("a", change.Create), done("a", change.Unchanged)},
			noOp:   true,
			want:   change.Summary{Create: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTally("l1")
			for _, e := range tc.events {
				tl.add(e)
			}
			tl.noOp = tc.noOp
			tc.want.Stack = "l1"
			if d := cmp.Diff(tc.want, tl.summary()); d != "" {
				t.Errorf("summary (-want +got):\n%s", d)
			}
		})
	}
}
