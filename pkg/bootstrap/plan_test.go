package bootstrap

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/remote"
	"kcloud.dev/kcloud/pkg/spec"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "absent", in: "", want: ""},
		{name: "release", in: "k3s version v1.33.5+k3s1 (e9e1f0a4)\ngo version go1.24.6\n", want: "v1.33.5+k3s1"},
		{name: "rc", in: "k3s version v1.34.2-rc1+k3s1 (abc)\n", want: "v1.34.2-rc1+k3s1"},
		{name: "something else", in: "bash: k3s: command not found\n", wantErr: `unexpected output "bash: k3s: command not found"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVersion(tc.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff([]string{tc.want, tc.wantErr}, []string{got, gotErr}); diff != "" {
				t.Errorf("version, error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	const exec = "server --node-name vps-1 --tls-san a.example.com --disable traefik"
	version := &Cluster{Version: "v1.33.5+k3s1"}
	channel := &Cluster{Channel: "stable"}
	tests := []struct {
		name       string
		c          *Cluster
		st         nodeState
		wantAction Action
		wantReason string
	}{
		{name: "absent", c: version, wantAction: ActionInstall, wantReason: "K3s is not installed"},
		{name: "same version and flags", c: version, st: nodeState{"v1.33.5+k3s1", &record{Version: "v1.33.5+k3s1", Exec: exec}}, wantAction: ActionNone},
		{name: "other version", c: version, st: nodeState{"v1.32.1+k3s1", &record{Exec: exec}}, wantAction: ActionUpgrade, wantReason: "version v1.32.1+k3s1 → v1.33.5+k3s1"},
		{name: "other version, no record", c: version, st: nodeState{version: "v1.32.1+k3s1"}, wantAction: ActionUpgrade, wantReason: "version v1.32.1+k3s1 → v1.33.5+k3s1"},
		{name: "same version, no record", c: version, st: nodeState{version: "v1.33.5+k3s1"}, wantAction: ActionReconfigure, wantReason: "K3s was not installed by kcloud: its channel and flags are unknown"},
		{name: "channel unchanged, newer version out", c: channel, st: nodeState{"v1.33.1+k3s1", &record{Channel: "stable", Exec: exec}}, wantAction: ActionNone},
		{name: "channel changed", c: channel, st: nodeState{"v1.34.1+k3s1", &record{Channel: "latest", Exec: exec}}, wantAction: ActionUpgrade, wantReason: "channel latest → channel stable"},
		{name: "channel, no record", c: channel, st: nodeState{version: "v1.34.1+k3s1"}, wantAction: ActionReconfigure, wantReason: "K3s was not installed by kcloud: its channel and flags are unknown"},
		{name: "flags changed", c: version, st: nodeState{"v1.33.5+k3s1", &record{Exec: "server --node-name vps-1 --cluster-init --tls-san a.example.com --disable servicelb"}},
			wantAction: ActionReconfigure, wantReason: "flags +[--disable traefik] -[--cluster-init, --disable servicelb]"},
		{name: "flags reordered", c: version, st: nodeState{"v1.33.5+k3s1", &record{Exec: "server --tls-san a.example.com --node-name vps-1 --disable traefik"}},
			wantAction: ActionReconfigure, wantReason: "flags reordered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			action, reason := decide(tc.c, tc.st, exec)
			if diff := cmp.Diff([]string{string(tc.wantAction), tc.wantReason}, []string{string(action), reason}); diff != "" {
				t.Errorf("action, reason (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecArgs(t *testing.T) {
	node := func(name, role, host string) Node {
		return Node{Name: name, Role: role, Target: remote.Target{User: "root", Host: host, Port: 22}}
	}
	c := &Cluster{
		Name: "main", Version: "v1.33.5+k3s1", Disable: []string{"servicelb", "traefik"},
		APIEndpoint: "k3s.int.example.com", StoragePath: "/data/lp",
	}
	single := *c
	single.Nodes = []Node{node("vps-1", spec.RoleServer, "10.0.0.1"), node("w-1", spec.RoleAgent, "10.0.0.9")}
	ha := *c
	ha.Nodes = []Node{node("vps-1", spec.RoleServer, "2001:db8::1"), node("vps-2", spec.RoleServer, "10.0.0.2"), node("w-1", spec.RoleAgent, "10.0.0.9")}
	under := DefaultPaths().Under("/tmp/n")

	tests := []struct {
		name  string
		c     *Cluster
		node  int
		paths Paths
		want  string
	}{
		{name: "single server", c: &single, node: 0, paths: DefaultPaths(),
			want: "server --node-name vps-1 --tls-san k3s.int.example.com --default-local-storage-path /data/lp --disable servicelb --disable traefik"},
		{name: "agent", c: &single, node: 1, paths: DefaultPaths(), want: "agent --node-name w-1"},
		{name: "first of several servers", c: &ha, node: 0, paths: DefaultPaths(),
			want: "server --cluster-init --node-name vps-1 --tls-san k3s.int.example.com --default-local-storage-path /data/lp --disable servicelb --disable traefik"},
		{name: "joining server", c: &ha, node: 1, paths: DefaultPaths(),
			want: "server --server https://[2001:db8::1]:6443 --node-name vps-2 --tls-san k3s.int.example.com --default-local-storage-path /data/lp --disable servicelb --disable traefik"},
		{name: "server with moved paths", c: &single, node: 0, paths: under,
			want: "server --node-name vps-1 --tls-san k3s.int.example.com --default-local-storage-path /data/lp --disable servicelb --disable traefik --data-dir /tmp/n/var/lib/rancher/k3s --write-kubeconfig /tmp/n/etc/rancher/k3s/k3s.yaml"},
		{name: "agent with moved paths", c: &single, node: 1, paths: under, want: "agent --node-name w-1 --data-dir /tmp/n/var/lib/rancher/k3s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(tc.c.execArgs(tc.c.Nodes[tc.node], tc.paths), " ")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestInstallCmd(t *testing.T) {
	c := &Cluster{Channel: "stable", Nodes: []Node{
		{Name: "vps-1", Role: spec.RoleServer, Target: remote.Target{Host: "10.0.0.1"}},
		{Name: "w-1", Role: spec.RoleAgent, Target: remote.Target{Host: "10.0.0.9"}},
	}}
	tests := []struct {
		name  string
		node  int
		joins bool
		want  string
	}{
		{name: "first server", node: 0, want: "INSTALL_K3S_CHANNEL=stable INSTALL_K3S_EXEC='server --node-name vps-1' sh /var/lib/kcloud/install-k3s.sh"},
		{name: "agent", node: 1, joins: true,
			want: "INSTALL_K3S_CHANNEL=stable INSTALL_K3S_EXEC='agent --node-name w-1' K3S_URL=https://10.0.0.1:6443 K3S_TOKEN_FILE=/var/lib/kcloud/token sh /var/lib/kcloud/install-k3s.sh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := c.Nodes[tc.node]
			exec := "server --node-name vps-1"
			if n.Role == spec.RoleAgent {
				exec = "agent --node-name w-1"
			}
			if diff := cmp.Diff(tc.want, c.installCmd(n, DefaultPaths(), exec, tc.joins)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
