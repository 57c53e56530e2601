package printer_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/remote"
)

// frames splits what BootstrapProgress wrote into what each redraw wrote
// after taking back the lines before, and says how many lines each took
// back.
func frames(t *testing.T, out string) (writes [][]string, ups []int) {
	t.Helper()
	clear := regexp.MustCompile(`\r\x1b\[(\d+)A\x1b\[J`)
	for _, m := range clear.FindAllStringSubmatch(out, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			t.Fatal(err)
		}
		ups = append(ups, n)
	}
	for _, part := range clear.Split(out, -1) {
		writes = append(writes, strings.Split(strings.TrimSuffix(part, "\n"), "\n"))
	}
	return writes, ups
}

func TestBootstrapProgress(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	tick := func(d time.Duration) { clock = clock.Add(d) }
	server := bootstrap.Node{Name: "vps-1", Role: "server", Target: remote.Target{User: "root", Host: "203.0.113.10", Port: 22}}
	agent := bootstrap.Node{Name: "worker-1", Role: "agent", Target: remote.Target{User: "deploy", Host: "203.0.113.11", Port: 2222}}
	install := bootstrap.NodePlan{Node: server, Version: "v1.33.5+k3s1", Action: bootstrap.ActionInstall, Reason: "K3s is not installed"}
	same := bootstrap.NodePlan{Node: agent, Current: "v1.33.5+k3s1", Version: "v1.33.5+k3s1", Action: bootstrap.ActionNone}

	var b bytes.Buffer
	p := printer.NewBootstrapProgress(&b, nil, now)
	var log bytes.Buffer
	above := p.Above(&log)
	ev := func(typ bootstrap.EventType, np bootstrap.NodePlan) { p.Event(bootstrap.Event{Type: typ, Node: np}) }
	ev(bootstrap.EventConnecting, bootstrap.NodePlan{Node: server})
	ev(bootstrap.EventConnecting, bootstrap.NodePlan{Node: agent})
	tick(300 * time.Millisecond)
	ev(bootstrap.EventProbing, bootstrap.NodePlan{Node: agent})
	p.Event(bootstrap.Event{Type: bootstrap.EventPlan, Plan: []bootstrap.NodePlan{install, same}})
	tick(time.Second)
	ev(bootstrap.EventStarted, install)
	ev(bootstrap.EventUploading, install)
	ev(bootstrap.EventInstalling, install)
	if _, err := above.Write([]byte("a log line\n")); err != nil {
		t.Fatal(err)
	}
	tick(2 * time.Second)
	ev(bootstrap.EventWaiting, install)
	installed := install
	installed.Current = "v1.33.5+k3s1"
	ev(bootstrap.EventReady, installed)
	ev(bootstrap.EventDone, installed)
	tick(time.Second)
	ev(bootstrap.EventKubeconfig, installed)
	tick(100 * time.Millisecond)
	ev(bootstrap.EventDone, installed)
	p.Finish(nil)
	ev(bootstrap.EventFailed, installed) // after Finish: ignored

	var plan bytes.Buffer
	if err := printer.BootstrapPlan(&plan, []bootstrap.NodePlan{install, same}); err != nil {
		t.Fatal(err)
	}
	table := strings.Split(strings.TrimSuffix(plan.String(), "\n"), "\n")
	row := func(prefix, elapsed, step string) string { return fmt.Sprintf("%s%7s  %s", prefix, elapsed, step) }
	const (
		alone = "vps-1  server  root@203.0.113.10:22  -  "
		s0    = "vps-1     server  root@203.0.113.10:22      -  "
		a0    = "worker-1  agent   deploy@203.0.113.11:2222  -  "
		s     = "vps-1     server  root@203.0.113.10:22      install  "
		a     = "worker-1  agent   deploy@203.0.113.11:2222  -        "
	)
	agentDone := row(a, "300ms", "up to date, K3s v1.33.5+k3s1")
	want := [][]string{
		{row(alone, "0s", "connecting")},
		{row(s0, "0s", "connecting"), row(a0, "0s", "connecting")},
		{row(s0, "300ms", "connecting"), row(a0, "300ms", "probing")},
		append(table, row(s, "300ms", "pending"), agentDone),
		{row(s, "1.3s", "starting"), agentDone},
		{row(s, "1.3s", "uploading installer"), agentDone},
		{row(s, "1.3s", "running installer"), agentDone},
		{row(s, "1.3s", "running installer"), agentDone}, // after the log line
		{row(s, "3.3s", "waiting for Ready"), agentDone},
		{row(s, "3.3s", "Ready"), agentDone},
		{row(s, "3.3s", "done, K3s v1.33.5+k3s1"), agentDone},
		{row(s, "4.3s", "fetching kubeconfig"), agentDone},
		{row(s, "4.4s", "done, K3s v1.33.5+k3s1"), agentDone},
		{row(s, "4.4s", "done, K3s v1.33.5+k3s1"), agentDone}, // Finish
	}
	got, ups := frames(t, b.String())
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("frames (-want +got):\n%s", d)
	}
	// Each redraw takes back the node lines before it, never the plan.
	if d := cmp.Diff([]int{1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, ups); d != "" {
		t.Errorf("lines taken back (-want +got):\n%s", d)
	}
	if log.String() != "a log line\n" {
		t.Errorf("log got %q", log.String())
	}
}

// TestBootstrapProgressLines checks what a single frame says in the cases
// the run above does not reach.
func TestBootstrapProgressLines(t *testing.T) {
	server := bootstrap.Node{Name: "vps-1", Role: "server", Target: remote.Target{User: "root", Host: "203.0.113.10", Port: 22}}
	agent := bootstrap.Node{Name: "worker-1", Role: "agent", Target: remote.Target{User: "root", Host: "203.0.113.11", Port: 22}}
	install := func(n bootstrap.Node) bootstrap.NodePlan {
		return bootstrap.NodePlan{Node: n, Version: "v1.33.5+k3s1", Action: bootstrap.ActionInstall}
	}
	tests := []struct {
		name   string
		width  int
		events []bootstrap.Event
		err    error
		want   []string
	}{
		{
			name: "a failed node and one that never started",
			events: []bootstrap.Event{
				{Type: bootstrap.EventPlan, Plan: []bootstrap.NodePlan{install(server), install(agent)}},
				{Type: bootstrap.EventWaiting, Node: install(server)},
				{Type: bootstrap.EventFailed, Node: install(server), Err: errors.New("not Ready")},
			},
			err: errors.New("not Ready"),
			want: []string{
				"vps-1     server  root@203.0.113.10:22  install       0s  failed",
				"worker-1  agent   root@203.0.113.11:22  install       0s  stopped while pending",
			},
		},
		{
			name: "a dry run leaves nodes pending",
			events: []bootstrap.Event{
				{Type: bootstrap.EventPlan, Plan: []bootstrap.NodePlan{install(server)}},
			},
			want: []string{"vps-1  server  root@203.0.113.10:22  install       0s  pending"},
		},
		{
			name: "names and hosts from specs are escaped",
			events: []bootstrap.Event{{Type: bootstrap.EventConnecting, Node: bootstrap.NodePlan{Node: bootstrap.Node{
				Name: "evil\x1b[2J", Role: "server", Target: remote.Target{User: "root", Host: "h\r\nost", Port: 22},
			}}}},
			want: []string{`evil\x1b[2J  server  root@h\r\nost:22  -       0s  connecting`},
		},
		{
			name:   "cut to the terminal's width",
			width:  30,
			events: []bootstrap.Event{{Type: bootstrap.EventConnecting, Node: bootstrap.NodePlan{Node: server}}},
			want:   []string{"vps-1  server  root@203.0.113"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			p := printer.NewBootstrapProgress(&b, func() int { return tc.width }, func() time.Time { return clock })
			for _, ev := range tc.events {
				p.Event(ev)
			}
			p.Finish(tc.err)
			got, _ := frames(t, b.String())
			if d := cmp.Diff(tc.want, got[len(got)-1]); d != "" {
				t.Errorf("last frame (-want +got):\n%s", d)
			}
		})
	}
}
