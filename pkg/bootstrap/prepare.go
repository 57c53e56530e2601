package bootstrap

import (
	"context"
	"fmt"
	"slices"

	"kcloud.dev/kcloud/pkg/spec"
)

// prepare connects, probes and plans, and checks the plan, all before
// anything changes: the version skew, the nodes that left the spec, the
// removals. It tells of the plan (EventPlan) with every node's steps.
func (b *bootstrapper) prepare(ctx context.Context) (*Result, error) {
	if err := b.connect(ctx, b.cluster.Nodes); err != nil {
		return nil, err
	}
	plan, err := b.plan(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: plan}
	if res.Plan, err = b.withDeparted(ctx, plan); err != nil {
		return res, err
	}
	if res.Snapshot, err = b.planSnapshot(ctx, res.Plan); err != nil {
		return res, err
	}
	b.steps(res.Plan, res.Snapshot)
	b.emit(Event{Type: EventPlan, Plan: res.Plan})
	if err := checkSkew(b.cluster, res.Plan); err != nil {
		return res, err
	}
	var left []string
	for _, np := range res.Plan {
		if np.Action == ActionRemove {
			left = append(left, np.Node.Name)
		}
	}
	if len(left) > 0 && !b.opts.RemoveNodes {
		return res, &DepartedError{Nodes: left}
	}
	return res, b.guardRemoval(ctx, res.Plan)
}

// withDeparted appends to plan the nodes kcloud joined that left the spec,
// as a node of the spec that runs K3s records them, and refuses a spec
// whose first server would start a new cluster beside the running one.
func (b *bootstrapper) withDeparted(ctx context.Context, plan []NodePlan) ([]NodePlan, error) {
	i := slices.IndexFunc(plan, func(np NodePlan) bool { return np.Current != "" && np.Node.Role != spec.RoleAgent })
	if i < 0 {
		i = slices.IndexFunc(plan, func(np NodePlan) bool { return np.Current != "" })
	}
	if i < 0 {
		return plan, nil // a new cluster
	}
	ms, err := b.readMembers(ctx, plan[i].Node)
	if err != nil {
		return plan, b.failed(plan[i], err)
	}
	gone := departed(b.cluster, ms)
	first := b.firstServer(plan)
	if first.Current == "" {
		for _, np := range gone {
			if np.Node.Role != spec.RoleAgent {
				return plan, &RemovalError{Nodes: []string{np.Node.Name}, Reason: fmt.Sprintf(
					"it would be the cluster's last server to go: %s, the spec's first server, runs no K3s and would start a new cluster; list %s first among the servers until the new ones have joined",
					first.Node.Name, np.Node.Name)}
			}
		}
		return plan, b.failed(*first, fmt.Errorf("node %s: the spec's first server runs no K3s while %s does: the first server initialises the cluster, so list a server of the running cluster first", first.Node.Name, plan[i].Node.Name))
	}
	if len(gone) > 0 && b.opts.RemoveNodes {
		if err := b.probeDeparted(ctx, gone); err != nil {
			return plan, err
		}
	}
	return append(plan, gone...), nil
}

// firstServer is the first server's plan.
func (b *bootstrapper) firstServer(plan []NodePlan) *NodePlan {
	name := b.cluster.Servers()[0].Name
	return &plan[slices.IndexFunc(plan, func(np NodePlan) bool { return np.Node.Name == name })]
}

// probeDeparted connects to the nodes that left the spec (host keys
// verified like the others') and reads their K3s version.
func (b *bootstrapper) probeDeparted(ctx context.Context, gone []NodePlan) error {
	nodes := make([]Node, len(gone))
	for i, np := range gone {
		nodes[i] = np.Node
	}
	if err := b.connect(ctx, nodes); err != nil {
		return err
	}
	return forEach(gone, func(i int, np NodePlan) error {
		st, err := probe(ctx, b.runners[np.Node.Name], b.paths(np.Node.Name))
		if err != nil {
			return b.failed(np, fmt.Errorf("node %s: %w", np.Node.Name, err))
		}
		gone[i].Current = st.version
		b.records[np.Node.Name] = st.record
		return nil
	})
}

// changesRunning reports whether np changes a node that runs K3s: a
// restart (upgrade, new flags) or a removal.
func changesRunning(np NodePlan) bool {
	return np.Current != "" && np.Action != ActionNone && np.Action != ActionInstall ||
		np.Action == ActionRemove
}

// planSnapshot decides the snapshot taken before the change: one when a
// running node changes, on the first server, named for the versions.
func (b *bootstrapper) planSnapshot(ctx context.Context, plan []NodePlan) (*Snapshot, error) {
	if !slices.ContainsFunc(plan, changesRunning) {
		return nil, nil
	}
	first := b.firstServer(plan)
	if first.Current == "" {
		return nil, b.failed(*first, fmt.Errorf("node %s: the first server runs no K3s, so there is no datastore to snapshot before changing the running nodes; list a server of the running cluster first in the spec's nodes", first.Node.Name))
	}
	ds, err := detectDatastore(ctx, b.runners[first.Node.Name], b.paths(first.Node.Name))
	if err != nil {
		return nil, b.failed(*first, fmt.Errorf("node %s: %w", first.Node.Name, err))
	}
	to := b.cluster.Version
	if to == "" {
		to = b.cluster.Channel
	}
	return &Snapshot{Node: first.Node.Name, Datastore: ds, Name: snapshotName(first.Current, to)}, nil
}

// steps writes down what apply will do to each node, in its order.
func (b *bootstrapper) steps(plan []NodePlan, snap *Snapshot) {
	for i := range plan {
		np := &plan[i]
		np.Steps = nil
		if snap != nil && np.Node.Name == snap.Node {
			what := "k3s etcd-snapshot save --name " + snap.Name
			if snap.Datastore == DatastoreSQLite {
				what = fmt.Sprintf("stop K3s, copy %s and the token to %s/, start K3s", b.paths(np.Node.Name).dbDir(), b.paths(np.Node.Name).sqliteBackups())
			}
			np.Steps = append(np.Steps, Step{Kind: StepSnapshot, Detail: what})
		}
		drains := []Step{{Kind: StepCordon}, {Kind: StepDrain, Detail: fmt.Sprintf("evict its pods (PodDisruptionBudgets honoured, DaemonSet pods stay), up to %s", b.opts.DrainTimeout)}}
		switch {
		case np.Action == ActionRemove:
			np.Steps = append(np.Steps, drains...)
			np.Steps = append(np.Steps, Step{Kind: StepUninstall, Detail: b.paths(np.Node.Name).uninstaller(np.Node.Role)},
				Step{Kind: StepDelete, Detail: "K3s removes its etcd member"})
			if np.Node.Role == spec.RoleAgent {
				np.Steps[len(np.Steps)-1].Detail = ""
			}
		case np.Action == ActionInstall:
			np.Steps = append(np.Steps, Step{Kind: StepInstall, Detail: desired(np)}, Step{Kind: StepWaitReady})
		case np.Action != ActionNone:
			np.Steps = append(np.Steps, drains...)
			np.Steps = append(np.Steps, Step{Kind: StepKind(np.Action), Detail: np.Reason}, Step{Kind: StepWaitReady}, Step{Kind: StepUncordon})
		case np.Cordoned:
			np.Steps = append(np.Steps, Step{Kind: StepWaitReady}, Step{Kind: StepUncordon, Detail: "a run before this one cordoned it"})
		}
	}
}

// desired names the release np asks for.
func desired(np *NodePlan) string {
	if np.Version != "" {
		return np.Version
	}
	return "channel " + np.Channel
}
