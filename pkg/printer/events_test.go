package printer

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"

	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
)

// TestLogEventMessage: an event about an object names it before its
// message; one about no object (a stack-wide warning) is its message
// alone.
func TestLogEventMessage(t *testing.T) {
	for _, tc := range []struct {
		e    apply.Event
		want string
	}{
		{apply.Event{Type: apply.Warning, Stack: "l1", Message: "waiting until the cluster serves Certificate"}, "waiting until the cluster serves Certificate"},
		{apply.Event{Type: apply.Warning, Stack: "l1", Object: change.Ref{Name: "web", Namespace: "apps"}, Message: "skipped"}, change.Ref{Name: "web", Namespace: "apps"}.String() + ": skipped"},
	} {
		var buf bytes.Buffer
		LogEvent(zerolog.New(&buf), tc.e)
		var line struct{ Message string }
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("%v: %s", err, buf.String())
		}
		if line.Message != tc.want {
			t.Errorf("message %q, want %q", line.Message, tc.want)
		}
	}
}
