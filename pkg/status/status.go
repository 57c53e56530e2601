package status

import (
	"context"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/health"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
)

// Stack is the state of one stack in the cluster.
type Stack struct {
	Stack string
	// InInventory is false when the stack has no inventory yet.
	InInventory bool
	Objects     []health.Object
	// Drifted are the changes that would bring the cluster to the plan
	// (creates, updates, prunes).
	Drifted []diff.Change
}

// Unhealthy counts objects that are not Current.
func (s Stack) Unhealthy() int {
	n := 0
	for _, o := range s.Objects {
		if !o.Healthy() {
			n++
		}
	}
	return n
}

// Report is what 'kcloud status' shows.
type Report struct {
	Stacks       []Stack
	StorageClass []StorageClassCheck
	// Lock describes a held apply lock, nil when free.
	Lock *inventory.HeldError
}

// Healthy reports whether every object is Current, nothing drifted and
// the StorageClasses match the table.
func (r *Report) Healthy() bool {
	for _, s := range r.Stacks {
		if s.Unhealthy() > 0 || len(s.Drifted) > 0 || !s.InInventory {
			return false
		}
	}
	for _, c := range r.StorageClass {
		if len(c.Problems) > 0 {
			return false
		}
	}
	return true
}

// Run reports on each rendered stack of the plan. It diffs the plan once
// and reads each stack's objects' health from what its inventory lists.
func Run(ctx context.Context, c *kube.Clients, plan *render.Result, opts diff.Options) (*Report, error) {
	plan = plan.WithoutHooks() // apply runs them; they are kept nowhere
	planned, err := diff.Run(ctx, c, plan, opts)
	if err != nil {
		return nil, err
	}
	checker, err := health.NewChecker(ctx, c, opts.Workers)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, s := range plan.Stacks {
		inv := planned.Inventories[s.Name]
		st := Stack{Stack: s.Name, InInventory: inv.Found}
		if st.Objects, err = checker.Check(ctx, inv.Objects); err != nil {
			return nil, err
		}
		for _, ch := range planned.Stack(s.Name) {
			if ch.Changed() {
				st.Drifted = append(st.Drifted, ch)
			}
		}
		rep.Stacks = append(rep.Stacks, st)
	}
	if rep.StorageClass, err = checkStorageClasses(ctx, c, plan.Tables); err != nil {
		return nil, err
	}
	if rep.Lock, err = inventory.Held(ctx, c.Typed); err != nil {
		return nil, err
	}
	return rep, nil
}
