package inventory

import (
	"context"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/cli-utils/pkg/apis/actuation"
	"sigs.k8s.io/cli-utils/pkg/common"
	cliinv "sigs.k8s.io/cli-utils/pkg/inventory"
	"sigs.k8s.io/cli-utils/pkg/object"

	"kcloud.dev/kcloud/pkg/kube"
)

// retryingClient makes cli-utils' inventory writes correct under retries.
// cli-utils writes an inventory by reading it, then creating it (POST) or
// updating it with the resourceVersion it read (PUT): neither may be sent
// twice blindly. When one fails transiently — including the conflict or
// "already exists" of a write whose first answer was lost but which landed —
// the whole read-merge-write starts over from what the cluster now holds:
// the result is the same whether the first attempt landed or not.
type retryingClient struct {
	cliinv.Client
}

var _ cliinv.Client = retryingClient{}

// inventoryAttempts bounds each read-merge-write.
const inventoryAttempts = 5

func (c retryingClient) Merge(inv cliinv.Info, objs object.ObjMetadataSet, dryRun common.DryRunStrategy) (object.ObjMetadataSet, error) {
	var prune object.ObjMetadataSet
	err := again(func() error {
		var err error
		prune, err = c.Client.Merge(inv, objs, dryRun)
		return err
	})
	return prune, err
}

func (c retryingClient) Replace(inv cliinv.Info, objs object.ObjMetadataSet, status []actuation.ObjectStatus, dryRun common.DryRunStrategy) error {
	return again(func() error { return c.Client.Replace(inv, objs, status, dryRun) })
}

// again runs write until it succeeds, fails for good, or has been tried
// inventoryAttempts times, waiting a little longer each time.
func again(write func() error) error {
	var err error
	for n := 1; ; n++ {
		if err = write(); !kube.IsTransient(err) || n == inventoryAttempts {
			return err
		}
		time.Sleep(time.Duration(n) * 200 * time.Millisecond)
	}
}

// maxTransient bounds how often taking the lock starts over after a
// transient error (the transport has retried what it safely could).
const maxTransient = 5

// again reports whether taking the lock should start over after err, and
// waits before it does.
func (l *Lock) again(ctx context.Context, err error, n *int) bool {
	if !kube.IsTransient(err) || *n >= maxTransient || ctx.Err() != nil {
		return false
	}
	*n++
	select {
	case <-ctx.Done():
		return false
	case <-l.clock.After(time.Duration(*n) * 200 * time.Millisecond):
		return true
	}
}

// mine returns the Lease when it names this run as its holder: a write of
// ours whose answer was lost landed after all.
func (l *Lock) mine(ctx context.Context) (*coordinationv1.Lease, error) {
	cur, err := l.client.CoordinationV1().Leases(Namespace).Get(ctx, LockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if cur.Spec.HolderIdentity != nil && *cur.Spec.HolderIdentity == l.holder {
		return cur, nil
	}
	return nil, nil
}
