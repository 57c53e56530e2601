package apply

import (
	"context"

	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
)

// Destroy deletes everything a stack's inventory lists, with cli-utils'
// Destroyer, under the apply lock; protected objects are detached unless
// AllowDataLoss. The inventory is removed once it is empty.
func Destroy(ctx context.Context, c *kube.Clients, stack string, opts Options) (*Result, error) {
	if err := opts.defaults(nil); err != nil {
		return nil, err
	}
	r := &runner{c: c, opts: opts, res: &Result{DryRun: opts.DryRun}}
	_, found, err := inventory.Get(ctx, c.Typed, stack)
	if err != nil {
		return r.res, err
	}
	if !found {
		return r.res, &NoInventoryError{Stack: stack}
	}
	ctx, release, err := r.acquire(ctx)
	if err != nil {
		return r.res, err
	}
	defer release()
	if err := r.destroy(ctx, stack); err != nil {
		return r.res, r.lockLost(err)
	}
	return r.res, nil
}

// NoInventoryError says a stack has never been applied.
type NoInventoryError struct{ Stack string }

func (e *NoInventoryError) Error() string {
	return "stack " + e.Stack + " has no inventory (" + inventory.Namespace + "/" + inventory.Name(e.Stack) + "): nothing to destroy"
}
