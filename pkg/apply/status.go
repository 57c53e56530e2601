package apply

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/object"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// ObjectHealth is the kstatus of one live object.
type ObjectHealth struct {
	ID      object.ObjMetadata
	Status  status.Status
	Message string
}

// Healthy reports whether the object is Current.
func (h ObjectHealth) Healthy() bool { return h.Status == status.CurrentStatus }

// Health reads ids and computes their kstatus (a Pending PVC of a
// WaitForFirstConsumer class counts as Current). A missing object is
// NotFound.
func Health(ctx context.Context, c *kube.Clients, ids object.ObjMetadataSet, workers int) ([]ObjectHealth, error) {
	if workers <= 0 {
		workers = diff.DefaultWorkers
	}
	modes, err := readBindingModes(ctx, c.Typed)
	if err != nil {
		return nil, err
	}
	reader := kube.NewReader(c)
	mappings := make([]*meta.RESTMapping, len(ids))
	out := make([]ObjectHealth, len(ids))
	for i, id := range ids {
		out[i] = ObjectHealth{ID: id, Status: status.UnknownStatus}
		m, err := c.Mapper.RESTMapping(id.GroupKind)
		if meta.IsNoMatchError(err) {
			out[i].Status, out[i].Message = status.NotFoundStatus, "its kind is not served"
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Ref{GroupKind: id.GroupKind, Namespace: id.Namespace, Name: id.Name}, err)
		}
		mappings[i] = m
		reader.Expect(m.Resource, id.Namespace)
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	kube.Parallel(ctx, workers, len(ids), func(i int) {
		m := mappings[i]
		if m == nil {
			return
		}
		id := ids[i]
		live, err := reader.Get(ctx, m.Resource, id.Namespace, id.Name)
		if err != nil {
			mu.Lock()
			errs = append(errs, fmt.Errorf("%s: %w", Ref{GroupKind: id.GroupKind, Namespace: id.Namespace, Name: id.Name}, err))
			mu.Unlock()
			return
		}
		if live == nil {
			out[i].Status, out[i].Message = status.NotFoundStatus, "not found"
			return
		}
		out[i].Status, out[i].Message = health(live, modes)
	})
	if len(errs) > 0 {
		return out, errs[0]
	}
	return out, ctx.Err()
}

// StackStatus is the state of one stack in the cluster.
type StackStatus struct {
	Stack string
	// InInventory is false when the stack has no inventory yet.
	InInventory bool
	Objects     []ObjectHealth
	// Drift counts objects whose live state differs from the plan (created,
	// changed, or to be pruned); Drifted names them.
	Drift   int
	Drifted []string
}

// Unhealthy counts objects that are not Current.
func (s StackStatus) Unhealthy() int {
	n := 0
	for _, o := range s.Objects {
		if !o.Healthy() {
			n++
		}
	}
	return n
}

// StorageClassCheck compares a K3s-owned StorageClass with the table.
type StorageClassCheck struct {
	Name     string
	Problems []string
}

// Report is what 'kcloud status' shows.
type Report struct {
	Stacks       []StackStatus
	StorageClass []StorageClassCheck
	// Lock describes a held apply lock, nil when free.
	Lock *inventory.HeldError
}

// Healthy reports whether every object is Current, nothing drifted and
// the StorageClasses match the table.
func (r *Report) Healthy() bool {
	for _, s := range r.Stacks {
		if s.Unhealthy() > 0 || s.Drift > 0 || !s.InInventory {
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

// Status reports each rendered stack's inventory, its objects' health and
// its drift from the plan, and checks the K3s-owned StorageClasses.
func Status(ctx context.Context, c *kube.Clients, stacks []render.Stack, tables *spec.Tables, red *redact.Redactor) (*Report, error) {
	rep := &Report{}
	planned, err := diff.Run(ctx, c, stacks, diff.Options{Tables: tables, NoOrphans: true, Redactor: red})
	if err != nil {
		return nil, err
	}
	for _, s := range stacks {
		st := StackStatus{Stack: s.Name}
		ids, found, err := inventory.Get(ctx, c.Typed, s.Name)
		if err != nil {
			return nil, err
		}
		st.InInventory = found
		if st.Objects, err = Health(ctx, c, ids, 0); err != nil {
			return nil, err
		}
		for _, ch := range planned.Stack(s.Name) {
			if ch.Changed() {
				st.Drift++
				st.Drifted = append(st.Drifted, fmt.Sprintf("%s (%s)", ch.Ref(), ch.Action))
			}
		}
		rep.Stacks = append(rep.Stacks, st)
	}
	if rep.StorageClass, err = checkStorageClasses(ctx, c, tables); err != nil {
		return nil, err
	}
	if rep.Lock, err = inventory.Held(ctx, c.Typed); err != nil {
		return nil, err
	}
	return rep, nil
}
