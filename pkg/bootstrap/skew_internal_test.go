package bootstrap

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/spec"
)

func TestCheckSkew(t *testing.T) {
	server := func(cur string) NodePlan {
		return NodePlan{Node: Node{Name: "vps-1", Role: spec.RoleServer}, Current: cur, Action: ActionUpgrade}
	}
	agent := func(cur string) NodePlan {
		return NodePlan{Node: Node{Name: "worker-1", Role: spec.RoleAgent}, Current: cur, Action: ActionUpgrade}
	}
	tests := []struct {
		name             string
		version, channel string
		plan             []NodePlan
		want             string
	}{
		{name: "next minor", version: "v1.34.1+k3s1", plan: []NodePlan{server("v1.33.5+k3s1"), agent("v1.33.5+k3s1")}},
		{name: "patch and revision", version: "v1.33.6+k3s2", plan: []NodePlan{server("v1.33.5+k3s1")}},
		{name: "release after its candidate", version: "v1.34.2+k3s1", plan: []NodePlan{server("v1.34.2-rc1+k3s1")}},
		{name: "new nodes have no version", version: "v1.34.1+k3s1", plan: []NodePlan{server(""), agent("")}},
		{name: "skips a minor", version: "v1.35.0+k3s1", plan: []NodePlan{server("v1.33.5+k3s1")},
			want: "node vps-1: refusing v1.33.5+k3s1 → v1.35.0+k3s1: Kubernetes upgrades one minor version at a time: upgrade through v1.34 first (set k3s.version to a v1.34 release, run bootstrap, then move on)"},
		{name: "patch downgrade", version: "v1.33.4+k3s1", plan: []NodePlan{server("v1.33.5+k3s1")},
			want: "node vps-1: refusing v1.33.5+k3s1 → v1.33.4+k3s1: Kubernetes does not support downgrades; to go back, restore the snapshot taken before the upgrade (kcloud bootstrap restore --snapshot NAME --yes)"},
		{name: "revision downgrade", version: "v1.33.5+k3s1", plan: []NodePlan{server("v1.33.5+k3s2")},
			want: "node vps-1: refusing v1.33.5+k3s2 → v1.33.5+k3s1: Kubernetes does not support downgrades; to go back, restore the snapshot taken before the upgrade (kcloud bootstrap restore --snapshot NAME --yes)"},
		{name: "agent ahead of the servers", version: "v1.33.5+k3s1", plan: []NodePlan{server("v1.33.5+k3s1"), agent("v1.34.1+k3s1")},
			want: "node worker-1: refusing v1.34.1+k3s1 → v1.33.5+k3s1: the agent would be newer than the servers at v1.33.5+k3s1, and a kubelet must never be newer than the API server; set k3s.version to v1.34.1+k3s1 or later to upgrade the servers first"},
		{name: "minor channel", channel: "v1.35", plan: []NodePlan{server("v1.33.5+k3s1")},
			want: "node vps-1: refusing v1.33.5+k3s1 → v1.35: Kubernetes upgrades one minor version at a time: upgrade through v1.34 first (set k3s.version to a v1.34 release, run bootstrap, then move on)"},
		{name: "minor channel, same minor", channel: "v1.33", plan: []NodePlan{server("v1.33.5+k3s1")}},
		{name: "named channel is not checked", channel: "stable", plan: []NodePlan{server("v1.30.1+k3s1")}},
		{name: "a leaving node is not checked", version: "v1.34.1+k3s1", plan: []NodePlan{server("v1.34.1+k3s1"),
			{Node: Node{Name: "old", Role: spec.RoleAgent}, Current: "v1.32.0+k3s1", Action: ActionRemove}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSkew(&Cluster{Version: tc.version, Channel: tc.channel}, tc.plan)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
