package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/statusreaders"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/kstatus/watcher"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/kube"
)

// Object is the health of one live object.
type Object struct {
	Ref     change.Ref
	Status  status.Status
	Message string
}

// Healthy reports whether the object is Current.
func (h Object) Healthy() bool { return h.Status == status.CurrentStatus }

// Checker computes the health of live objects. It reads the StorageClasses'
// binding modes once.
type Checker struct {
	c       *kube.Clients
	modes   *bindingModes
	workers int
}

// NewChecker reads what health depends on (the StorageClasses). workers
// bounds Check's reads (kube.Parallel's default when not positive).
func NewChecker(ctx context.Context, c *kube.Clients, workers int) (*Checker, error) {
	modes, err := readBindingModes(ctx, c.Typed)
	if err != nil {
		return nil, err
	}
	return &Checker{c: c, modes: modes, workers: workers}, nil
}

// Check reads ids and computes their health. A missing object is NotFound.
func (h *Checker) Check(ctx context.Context, ids []change.Ref) ([]Object, error) {
	reader := kube.NewReader(h.c)
	mappings := make([]*meta.RESTMapping, len(ids))
	out := make([]Object, len(ids))
	for i, id := range ids {
		out[i] = Object{Ref: id, Status: status.UnknownStatus}
		m, err := h.c.Mapper.RESTMapping(id.GroupKind)
		if meta.IsNoMatchError(err) {
			out[i].Status, out[i].Message = status.NotFoundStatus, "its kind is not served"
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", out[i].Ref, err)
		}
		mappings[i] = m
		reader.Expect(m.Resource, id.Namespace, id.Name)
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	kube.Parallel(ctx, h.workers, len(ids), func(i int) {
		if mappings[i] == nil {
			return
		}
		live, err := reader.Get(ctx, mappings[i].Resource, ids[i].Namespace, ids[i].Name)
		switch {
		case err != nil:
			mu.Lock()
			errs = append(errs, fmt.Errorf("%s: %w", out[i].Ref, err))
			mu.Unlock()
		case live == nil:
			out[i].Status, out[i].Message = status.NotFoundStatus, "not found"
		default:
			out[i].Status, out[i].Message = health(live, h.modes)
		}
	})
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	return out, ctx.Err()
}

// Wait polls ids every interval until all are Current or ctx ends; it
// returns the objects that were not Current at the last poll.
func (h *Checker) Wait(ctx context.Context, ids []change.Ref, interval time.Duration) ([]Object, error) {
	pending := ids
	for {
		hs, err := h.Check(ctx, pending)
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		var bad []Object
		pending = pending[:0:0]
		for _, o := range hs {
			if !o.Healthy() {
				bad = append(bad, o)
				pending = append(pending, o.Ref)
			}
		}
		if len(bad) == 0 {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return bad, nil
		case <-time.After(interval):
		}
	}
}

// Watcher returns cli-utils' status watcher for an apply: with wait, it
// computes health as Check does; without, an object that exists is Current
// except a CRD, which must be Established before its custom resources can
// be applied.
func (h *Checker) Watcher(dyn dynamic.Interface, wait bool) watcher.StatusWatcher {
	w := watcher.NewDefaultStatusWatcher(dyn, h.c.Mapper)
	if wait {
		w.StatusReader = statusreaders.NewStatusReader(h.c.Mapper, &pvcReader{modes: h.modes})
	} else {
		w.StatusReader = presentReader{}
	}
	return w
}
