package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/change"
)

// waitHealthy waits, within the timeout, until the objects of a stack that
// cli-utils did not apply are Current.
func (r *runner) waitHealthy(ctx context.Context, stack string, ids []change.Ref) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	bad, err := r.health.Wait(ctx, ids, pollInterval)
	if err != nil || len(bad) == 0 {
		return err
	}
	refs := make([]string, len(bad))
	for i, h := range bad {
		r.emit(Event{Type: ObjectEvent, Stack: stack, Object: h.Ref, Op: OpWait, Outcome: Timeout, Message: fmt.Sprintf("%s: %s", h.Status, h.Message)})
		refs[i] = h.Ref.String()
	}
	return fmt.Errorf("%d object(s) not healthy after %s: %s", len(refs), r.opts.Timeout, summarize(refs))
}

// waitServed waits, within the timeout, until the API server serves kinds
// (their chart has installed the CRDs).
func (r *runner) waitServed(ctx context.Context, stack string, kinds []schema.GroupVersionKind) error {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Kind + " (" + k.GroupVersion().String() + ")"
	}
	r.emit(Event{Type: Warning, Stack: stack, Message: "waiting until the cluster serves " + strings.Join(names, ", ") + " (their CRDs come from this plan or one of its charts)"})
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	for {
		r.c.Mapper.Reset()
		var errs []error
		for _, k := range kinds {
			if _, err := r.c.Mapping(k); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("still not served after %s: %w", r.opts.Timeout, errors.Join(errs...))
			}
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
