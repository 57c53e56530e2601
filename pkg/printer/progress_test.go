package printer

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
)

func TestProgressLine(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var b bytes.Buffer
	p := NewProgress(&b, now)
	ref := func(name string) change.Ref {
		return change.NewRef(schema.GroupKind{Kind: "ConfigMap"}, "apps", name)
	}
	var logged []string
	ev := func(e apply.Event) {
		p.Event(e, func() { logged = append(logged, e.Object.Name) })
	}
	ev(apply.Event{Type: apply.StackStarted, Stack: "l4-prod"})
	clock = clock.Add(300 * time.Millisecond)
	ev(apply.Event{Type: apply.ObjectEvent, Stack: "l4-prod", Object: ref("a"), Op: apply.OpApply, Outcome: apply.Done, Action: change.Create})
	ev(apply.Event{Type: apply.ObjectEvent, Stack: "l4-prod", Object: ref("b"), Op: apply.OpApply, Outcome: apply.Done, Action: change.Update})
	ev(apply.Event{Type: apply.ObjectEvent, Stack: "l4-prod", Object: ref("old"), Op: apply.OpPrune, Outcome: apply.Done, Action: change.Delete})
	ev(apply.Event{Type: apply.ObjectEvent, Stack: "l4-prod", Object: ref("a"), Op: apply.OpWait, Outcome: apply.Current})
	clock = clock.Add(1200 * time.Millisecond)
	ev(apply.Event{Type: apply.ObjectEvent, Stack: "l4-prod", Object: ref("b"), Op: apply.OpWait, Outcome: apply.Timeout, Err: errors.New("timed out")})
	ev(apply.Event{Type: apply.StackFinished, Stack: "l4-prod", Summary: &change.Summary{}})

	got := strings.Split(b.String(), "\r\x1b[K")
	want := []string{
		"l4-prod       applied 0  healthy 0  pruned 0  waiting 0  failed 0  0s",
		"l4-prod       applied 1  healthy 0  pruned 0  waiting 1  failed 0  300ms",
		"l4-prod       applied 2  healthy 0  pruned 0  waiting 2  failed 0  300ms",
		"l4-prod       applied 2  healthy 0  pruned 1  waiting 2  failed 0  300ms",
		"l4-prod       applied 2  healthy 1  pruned 1  waiting 1  failed 0  300ms",
		"l4-prod       applied 2  healthy 1  pruned 1  waiting 0  failed 1  1.5s",
		"l4-prod       applied 2  healthy 1  pruned 1  waiting 0  failed 1  1.5s\n",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if len(logged) != 7 {
		t.Errorf("logged %d events, want 7", len(logged))
	}
}
