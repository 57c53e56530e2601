package printer_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/remote"
)

func TestBootstrapEvents(t *testing.T) {
	server := bootstrap.Node{Name: "vps-1", Role: "server", Target: remote.Target{User: "root", Host: "203.0.113.10", Port: 22}}
	agent := bootstrap.Node{Name: "worker-1", Role: "agent", Target: remote.Target{User: "deploy", Host: "203.0.113.11", Port: 2222}}
	upgrade := bootstrap.NodePlan{Node: server, Current: "v1.33.5+k3s1", Version: "v1.34.1+k3s1", Action: bootstrap.ActionUpgrade, Reason: "version v1.33.5+k3s1 → v1.34.1+k3s1"}
	join := bootstrap.NodePlan{Node: agent, Channel: "stable", Action: bootstrap.ActionInstall, Reason: "K3s is not installed"}
	same := bootstrap.NodePlan{Node: agent, Current: "v1.33.5+k3s1", CurrentChannel: "stable", Channel: "stable", Action: bootstrap.ActionNone}
	reconf := bootstrap.NodePlan{Node: server, Current: "v1.33.5+k3s1", Version: "v1.33.5+k3s1", Action: bootstrap.ActionReconfigure, Reason: "flags +[--disable traefik]"}
	tests := []struct {
		name string
		ev   bootstrap.Event
		want string
	}{
		{name: "plan", ev: bootstrap.Event{Type: bootstrap.EventPlan, Plan: []bootstrap.NodePlan{upgrade, join}}, want: "" +
			"NODE      ROLE    TARGET                    CURRENT       DESIRED         ACTION   WHY\n" +
			"vps-1     server  root@203.0.113.10:22      v1.33.5+k3s1  v1.34.1+k3s1    upgrade  version v1.33.5+k3s1 → v1.34.1+k3s1\n" +
			"worker-1  agent   deploy@203.0.113.11:2222  -             channel stable  install  K3s is not installed\n"},
		{name: "upgrade", ev: bootstrap.Event{Type: bootstrap.EventStarted, Node: upgrade}, want: "vps-1: upgrade v1.33.5+k3s1 → v1.34.1+k3s1\n"},
		{name: "install from a channel", ev: bootstrap.Event{Type: bootstrap.EventStarted, Node: join}, want: "worker-1: install channel stable\n"},
		{name: "reconfigure", ev: bootstrap.Event{Type: bootstrap.EventStarted, Node: reconf}, want: "vps-1: reconfigure v1.33.5+k3s1: flags +[--disable traefik]\n"},
		{name: "waiting", ev: bootstrap.Event{Type: bootstrap.EventWaiting, Node: join, Timeout: 5 * time.Minute, Waiting: "node worker-1 to be Ready"}, want: "worker-1: waiting up to 5m0s for node worker-1 to be Ready\n"},
		{name: "ready", ev: bootstrap.Event{Type: bootstrap.EventReady, Node: upgrade}, want: "vps-1: Ready, K3s v1.33.5+k3s1\n"},
		{name: "up to date", ev: bootstrap.Event{Type: bootstrap.EventUpToDate, Node: same}, want: "worker-1: up to date, K3s v1.33.5+k3s1 (stable)\n"},
		{name: "connecting", ev: bootstrap.Event{Type: bootstrap.EventConnecting, Node: bootstrap.NodePlan{Node: agent}}, want: "worker-1: connecting to deploy@203.0.113.11:2222\n"},
		{name: "probing says nothing", ev: bootstrap.Event{Type: bootstrap.EventProbing, Node: bootstrap.NodePlan{Node: agent}}, want: ""},
		{name: "uploading", ev: bootstrap.Event{Type: bootstrap.EventUploading, Node: join}, want: "worker-1: uploading the installer\n"},
		{name: "downloading", ev: bootstrap.Event{Type: bootstrap.EventDownloading, Node: join, URL: "https://get.k3s.io"}, want: "worker-1: downloading the installer from https://get.k3s.io\n"},
		{name: "installing", ev: bootstrap.Event{Type: bootstrap.EventInstalling, Node: join}, want: "worker-1: running the installer\n"},
		{name: "kubeconfig", ev: bootstrap.Event{Type: bootstrap.EventKubeconfig, Node: upgrade}, want: "vps-1: fetching the kubeconfig\n"},
		{name: "done says nothing", ev: bootstrap.Event{Type: bootstrap.EventDone, Node: upgrade}, want: ""},
		{name: "failed", ev: bootstrap.Event{Type: bootstrap.EventFailed, Node: upgrade, Err: errors.New("boom")}, want: "vps-1: failed\n"},
		{
			name: "names and hosts from specs are escaped",
			ev: bootstrap.Event{Type: bootstrap.EventConnecting, Node: bootstrap.NodePlan{Node: bootstrap.Node{
				Name: "::error::x\x1b[2J", Target: remote.Target{User: "root", Host: "h\nost", Port: 22}}}},
			want: `\x3a:error::x\x1b[2J: connecting to root@h\nost:22` + "\n",
		},
		{
			name: "plan table escapes too",
			ev: bootstrap.Event{Type: bootstrap.EventPlan, Plan: []bootstrap.NodePlan{{
				Node: bootstrap.Node{Name: "a\rb", Role: "server", Target: remote.Target{User: "root", Host: "h\x1b]0;x\x07", Port: 22}}, Version: "v1", Action: bootstrap.ActionInstall}}},
			want: "NODE  ROLE    TARGET                 CURRENT  DESIRED  ACTION   WHY\n" +
				`a\rb  server  root@h\x1b]0;x\x07:22  -        v1       install  -` + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printer.BootstrapEvent(&b, tc.ev); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBootstrapResult(t *testing.T) {
	plan := []bootstrap.NodePlan{{Action: bootstrap.ActionInstall}, {Action: bootstrap.ActionNone}}
	tests := []struct {
		name string
		res  *bootstrap.Result
		want string
	}{
		{name: "dry run", res: &bootstrap.Result{Plan: plan}, want: "dry run: 1 of 2 node(s) would change; nothing was changed\n"},
		{
			name: "written and merged",
			res: &bootstrap.Result{Plan: plan, Kubeconfig: &bootstrap.Kubeconfigs{
				Context: "main", Server: "https://k3s.example.com:6443",
				Written: "kubeconfig", WrittenChanged: true, Merged: "/home/me/.kube/config",
			}},
			want: "kubeconfig: wrote kubeconfig (context main, server https://k3s.example.com:6443)\n" +
				"kubeconfig: unchanged in /home/me/.kube/config (context main, server https://k3s.example.com:6443)\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printer.BootstrapResult(&b, tc.res); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
