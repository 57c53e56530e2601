package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/pkg/remote"
	"kcloud.dev/kcloud/pkg/spec"
)

// member is a node kcloud joined, as it records them on the servers: how
// to reach it once it has left the spec.
type member struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	User    string `json:"user"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	HostKey string `json:"hostKey,omitempty"`
}

// DepartedError lists the nodes kcloud joined that are gone from the spec,
// when bootstrap may not remove them (no --remove-nodes). Nothing was
// changed.
type DepartedError struct {
	Nodes []string
}

func (e *DepartedError) Error() string {
	return fmt.Sprintf("node(s) %s left the spec but are still in the cluster: rerun with --remove-nodes to drain them, uninstall K3s on them and delete them from the cluster, or put them back in the spec's nodes",
		strings.Join(e.Nodes, ", "))
}

// etcdRoleLabel marks the nodes that are members of embedded etcd; K3s
// removes a node's etcd member when the Node is deleted (the managed etcd
// member removal controller in
// https://github.com/k3s-io/k3s/blob/v1.33.5+k3s1/pkg/etcd/ — EtcdRoleLabel,
// onRemove).
const etcdRoleLabel = "node-role.kubernetes.io/etcd"

// readMembers reads the record of the nodes kcloud joined from n; none
// when there is no record yet.
func (b *bootstrapper) readMembers(ctx context.Context, n Node) ([]member, error) {
	first := n
	file := remote.Quote(b.paths(first.Name).members())
	out, err := b.runners[first.Name].Run(ctx, fmt.Sprintf("if [ -f %s ]; then cat %s; fi", file, file), nil)
	if err != nil {
		return nil, fmt.Errorf("node %s: read kcloud's record of the cluster's nodes: %w", first.Name, err)
	}
	var ms []member
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(out, &ms); err != nil {
		return nil, fmt.Errorf("node %s: %s: %w", first.Name, b.paths(first.Name).members(), err)
	}
	b.recorded = ms
	return ms, nil
}

// departed returns a plan to remove each recorded node the spec no longer
// has, after the spec's nodes.
func departed(c *Cluster, ms []member) []NodePlan {
	var out []NodePlan
	for _, m := range ms {
		if slices.ContainsFunc(c.Nodes, func(n Node) bool { return n.Name == m.Name }) {
			continue
		}
		out = append(out, NodePlan{
			Node:   Node{Name: m.Name, Role: m.Role, Target: remote.Target{User: m.User, Host: m.Host, Port: m.Port, HostKey: m.HostKey}},
			Action: ActionRemove, Reason: "gone from the spec's nodes",
		})
	}
	return out
}

// writeMembers records on every node of the spec that runs K3s the nodes
// now in the cluster: the spec's and the departed ones not yet removed.
func (b *bootstrapper) writeMembers(ctx context.Context, plan []NodePlan) error {
	var ms []member
	for _, np := range plan {
		if np.Action == ActionRemove && b.removed[np.Node.Name] || np.Action != ActionRemove && np.Current == "" {
			continue
		}
		t := np.Node.Target
		ms = append(ms, member{Name: np.Node.Name, Role: np.Node.Role, User: t.User, Host: t.Host, Port: t.Port, HostKey: t.HostKey})
	}
	if slices.Equal(ms, b.recorded) {
		return nil
	}
	data, err := json.MarshalIndent(ms, "", "  ")
	if err != nil {
		return err
	}
	b.recorded = ms
	for _, np := range plan {
		if np.Action == ActionRemove || np.Current == "" {
			continue
		}
		if err := b.runners[np.Node.Name].Copy(ctx, bytes.NewReader(append(data, '\n')), b.paths(np.Node.Name).members(), 0o600); err != nil {
			return fmt.Errorf("node %s: record the cluster's nodes: %w", np.Node.Name, err)
		}
	}
	return nil
}

// RemovalError is a removal bootstrap refuses: the last server, or one
// that would cost embedded etcd its quorum. Nothing was changed.
type RemovalError struct {
	Nodes  []string
	Reason string
}

func (e *RemovalError) Error() string {
	return fmt.Sprintf("refusing to remove %s: %s", strings.Join(e.Nodes, ", "), e.Reason)
}

// guardRemoval refuses to remove the last server of the cluster, and any
// removal that would leave embedded etcd fewer Ready members than a quorum
// of those it has now: etcd needs a majority to commit even the removal of
// a member, and a server that went away before its removal was committed
// would take that majority with it.
func (b *bootstrapper) guardRemoval(ctx context.Context, plan []NodePlan) error {
	var leaving []string
	for _, np := range plan {
		if np.Action == ActionRemove && np.Node.Role != spec.RoleAgent {
			leaving = append(leaving, np.Node.Name)
		}
	}
	if len(leaving) == 0 {
		return nil
	}
	if !slices.ContainsFunc(plan, func(np NodePlan) bool {
		return np.Action != ActionRemove && np.Node.Role != spec.RoleAgent && np.Current != ""
	}) {
		return &RemovalError{Nodes: leaving, Reason: "no server of the spec is in the cluster yet: it would lose its last server; join the new server(s) first, in a run of their own"}
	}
	cs, err := b.kube(ctx)
	if err != nil {
		return err
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: etcdRoleLabel + "=true"})
	if err != nil {
		return fmt.Errorf("list the etcd members: %w", err)
	}
	members, staying := len(nodes.Items), 0
	for i := range nodes.Items {
		n := &nodes.Items[i]
		if !slices.Contains(leaving, n.Name) && nodeReady(n) {
			staying++
		}
	}
	if quorum := members/2 + 1; members > 0 && staying < quorum {
		return &RemovalError{Nodes: leaving, Reason: fmt.Sprintf(
			"embedded etcd has %d member(s) and needs %d for a quorum, but only %d Ready one(s) would stay: remove fewer servers at a time, or add servers first",
			members, quorum, staying)}
	}
	return nil
}

// remove drains a departed node, uninstalls K3s on it with K3s's own
// script, and deletes it from the cluster, where K3s then removes its etcd
// member. K3s goes first: a kubelet still running would register the node
// again. Each step tolerates having been done by an earlier run.
func (b *bootstrapper) remove(ctx context.Context, np *NodePlan) error {
	b.emit(Event{Type: EventStarted, Node: *np})
	if err := b.cordonDrain(ctx, np); err != nil {
		return b.failed(*np, err)
	}
	p := b.paths(np.Node.Name)
	script := remote.Quote(p.uninstaller(np.Node.Role))
	cmd := fmt.Sprintf("PATH=%s:$PATH; if [ -x %s ]; then %s; fi", remote.Quote(p.BinDir), script, script)
	if _, err := b.runners[np.Node.Name].Run(ctx, cmd, nil); err != nil {
		return b.failed(*np, fmt.Errorf("node %s: uninstall K3s: %w", np.Node.Name, err))
	}
	b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepUninstall, Detail: p.uninstaller(np.Node.Role)}})
	cs, err := b.kube(ctx)
	if err != nil {
		return b.failed(*np, err)
	}
	err = cs.CoreV1().Nodes().Delete(ctx, np.Node.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return b.failed(*np, fmt.Errorf("node %s: delete it from the cluster: %w", np.Node.Name, err))
	}
	b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepDelete}})
	b.removed[np.Node.Name] = true
	np.Current = ""
	b.emit(Event{Type: EventDone, Node: *np})
	return nil
}
