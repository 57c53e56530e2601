package apply

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	cliapply "sigs.k8s.io/cli-utils/pkg/apply"
	"sigs.k8s.io/cli-utils/pkg/common"
	cliinv "sigs.k8s.io/cli-utils/pkg/inventory"
	"sigs.k8s.io/cli-utils/pkg/kstatus/watcher"
	"sigs.k8s.io/cli-utils/pkg/object/validation"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
)

// cliBuilder is what cli-utils' ApplierBuilder and DestroyerBuilder have in
// common; cli-utils exports no such interface.
type cliBuilder[B any] interface {
	WithFactory(cmdutil.Factory) B
	WithInventoryClient(cliinv.Client) B
	WithDynamicClient(dynamic.Interface) B
	WithDiscoveryClient(discovery.CachedDiscoveryInterface) B
	WithRestMapper(meta.RESTMapper) B
	WithRestConfig(*rest.Config) B
	WithStatusWatcher(watcher.StatusWatcher) B
}

// configure gives a cli-utils builder this run's clients: dyn for reads and
// writes, the inventory client, and the status watcher of --wait.
func configure[B cliBuilder[B]](r *runner, b B, inv cliinv.Client, dyn dynamic.Interface) B {
	return b.WithFactory(r.c.Factory).
		WithInventoryClient(inv).
		WithDynamicClient(dyn).
		WithDiscoveryClient(r.c.Discovery).
		WithRestMapper(r.c.Mapper).
		WithRestConfig(r.c.Config).
		WithStatusWatcher(r.health.Watcher(dyn, r.opts.Wait))
}

func (r *runner) policy() cliinv.Policy {
	if r.opts.Adopt {
		return cliinv.PolicyAdoptIfNoInventory
	}
	return cliinv.PolicyMustMatch
}

func (r *runner) dryRun() common.DryRunStrategy {
	if r.opts.DryRun {
		return common.DryRunServer
	}
	return common.DryRunNone
}

// dynamicClient is the client cli-utils writes with: every delete through
// it checks the lock first.
func (r *runner) dynamicClient() dynamic.Interface {
	if r.lock == nil {
		return r.c.Dynamic
	}
	return guardedClient{Interface: r.c.Dynamic, check: r.lock.Check}
}

// runApplier runs cli-utils' Applier over one stack: objs are applied,
// keep (unchanged, rendered objects) stay in the inventory untouched.
// actions are the plan's, to tell creates from updates.
func (r *runner) runApplier(ctx context.Context, stack string, objs []*unstructured.Unstructured, keep []change.Ref,
	actions map[change.Ref]change.Action) error {
	invClient, err := inventory.NewClient(r.c)
	if err != nil {
		return err
	}
	if len(keep) > 0 {
		invClient = keepingInventory{Client: invClient, keep: change.IDs(keep)}
	}
	applier, err := configure(r, cliapply.NewApplierBuilder(), invClient, r.primed).Build()
	if err != nil {
		return fmt.Errorf("build the applier: %w", err)
	}
	events := applier.Run(ctx, inventory.Info(stack), objs, cliapply.ApplierOptions{
		ServerSideOptions: common.ServerSideOptions{ServerSideApply: true, ForceConflicts: true, FieldManager: kube.FieldManager},
		ReconcileTimeout:  r.opts.Timeout,
		PruneTimeout:      r.opts.Timeout,
		InventoryPolicy:   r.policy(),
		ValidationPolicy:  validation.ExitEarly,
		DryRunStrategy:    r.dryRun(),
	})
	t := newTranslator(r, stack, actions)
	r.tallies[stack].noOp = false
	detached, err := t.consume(events)
	if err != nil {
		return err
	}
	local := namespacesOf(objs)
	for _, ref := range keep {
		if ref.Namespace != "" {
			local[ref.Namespace] = true
		}
	}
	return r.deleteDetached(ctx, stack, detached, local)
}

// runDestroyer deletes a stack through its inventory with cli-utils'
// Destroyer.
func (r *runner) runDestroyer(ctx context.Context, stack string) error {
	invClient, err := inventory.NewClient(r.c)
	if err != nil {
		return err
	}
	d, err := configure(r, cliapply.NewDestroyerBuilder(), invClient, r.dynamicClient()).Build()
	if err != nil {
		return fmt.Errorf("build the destroyer: %w", err)
	}
	if !r.opts.AllowDataLoss && !r.opts.DryRun {
		if err := r.protectInventory(ctx, stack); err != nil {
			return err
		}
	}
	events := d.Run(ctx, inventory.Info(stack), cliapply.DestroyerOptions{
		InventoryPolicy:  r.policy(),
		DryRunStrategy:   r.dryRun(),
		DeleteTimeout:    r.opts.Timeout,
		ValidationPolicy: validation.ExitEarly,
	})
	detached, err := newTranslator(r, stack, nil).consume(events)
	if err != nil {
		return err
	}
	return r.deleteDetached(ctx, stack, detached, nil)
}

func namespacesOf(objs []*unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, o := range objs {
		if o.GetNamespace() != "" {
			out[o.GetNamespace()] = true
		}
	}
	return out
}
