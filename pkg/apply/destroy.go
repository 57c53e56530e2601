package apply

import (
	"context"
	"time"

	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// Destroy deletes everything a stack's inventory lists, with cli-utils'
// Destroyer, under the apply lock; protected objects (by the retention
// policy of tables) are detached unless AllowDataLoss. The inventory is
// removed once it is empty. It reads no specs: its plan is empty.
func Destroy(ctx context.Context, c *kube.Clients, tables *spec.Tables, stack string, opts Options) (*Result, error) {
	r, err := newRunner(ctx, c, render.NewResult(tables, render.Selection{}), opts)
	if err != nil {
		return nil, err
	}
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

// destroy deletes a stack through its inventory: for removed environments
// and 'kcloud destroy'.
func (r *runner) destroy(ctx context.Context, stack string) error {
	start := time.Now()
	r.emit(Event{Type: StackStarted, Stack: stack, Message: "destroy"})
	return r.finish(stack, start, r.runDestroyer(ctx, stack))
}

// NoInventoryError says a stack has never been applied.
type NoInventoryError struct{ Stack string }

func (e *NoInventoryError) Error() string {
	return "stack " + e.Stack + " has no inventory (" + inventory.Namespace + "/" + inventory.Name(e.Stack) + "): nothing to destroy"
}
