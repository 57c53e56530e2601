package inventory

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// HeldError says another run holds the lock.
type HeldError struct {
	Holder string
	// Age is how long ago the holder took the lock, by the holder's clock.
	Age time.Duration
	// ExpiresIn is how long the lock stays valid without another renewal.
	ExpiresIn time.Duration
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("another apply holds the lock %s/%s: %s, for %s (it expires %s after its last renewal, in %s); if that run is gone, run 'kcloud unlock'",
		Namespace, LockName, e.Holder, e.Age.Round(time.Second), DefaultLockDuration, e.ExpiresIn.Round(time.Second))
}

// heldError describes a live lease just seen renewed: it stays valid for
// expiresIn on our clock. Age is only shown, from the holder's clock.
func heldError(lease *coordinationv1.Lease, now time.Time, expiresIn time.Duration) *HeldError {
	e := &HeldError{Holder: *lease.Spec.HolderIdentity, ExpiresIn: expiresIn}
	if lease.Spec.AcquireTime != nil {
		e.Age = max(now.Sub(lease.Spec.AcquireTime.Time), 0)
	}
	return e
}

// Unlock deletes the lock whoever holds it, and returns the Lease it
// removed: for a run that was killed and left its lock.
func Unlock(ctx context.Context, c kubernetes.Interface) (*coordinationv1.Lease, error) {
	leases := c.CoordinationV1().Leases(Namespace)
	cur, err := leases.Get(ctx, LockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, ErrNotLocked
	}
	if err != nil {
		return nil, fmt.Errorf("read the apply lock: %w", err)
	}
	err = leases.Delete(ctx, LockName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cur.UID}})
	if apierrors.IsNotFound(err) {
		return nil, ErrNotLocked
	}
	if err != nil {
		return nil, fmt.Errorf("delete the apply lock: %w", err)
	}
	return cur, nil
}

// Held returns a *HeldError describing the current lock, or nil when there
// is none (for status). It looks once, so it cannot tell a live holder from
// a dead one: ExpiresIn is estimated from the holder's renewTime and may be
// off by the clocks' skew.
func Held(ctx context.Context, c kubernetes.Interface) (*HeldError, error) {
	cur, err := c.CoordinationV1().Leases(Namespace).Get(ctx, LockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the apply lock: %w", err)
	}
	if cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity == "" {
		return nil, nil
	}
	now := time.Now()
	left := leaseDuration(cur)
	if cur.Spec.RenewTime != nil {
		left = max(cur.Spec.RenewTime.Add(left).Sub(now), 0)
	}
	return heldError(cur, now, left), nil
}

// LockWait describes a Lease someone else holds that Acquire waits on.
type LockWait struct {
	Holder string
	// RenewedAt is the holder's last renewal, by the holder's clock (zero
	// when the Lease has none).
	RenewedAt time.Time
	// TakeOverAt is when, on our clock, the Lease is taken over unless
	// its holder renews it first.
	TakeOverAt time.Time
}

func newLockWait(lease *coordinationv1.Lease, takeOver time.Time) LockWait {
	w := LockWait{TakeOverAt: takeOver}
	if lease.Spec.HolderIdentity != nil {
		w.Holder = *lease.Spec.HolderIdentity
	}
	if lease.Spec.RenewTime != nil {
		w.RenewedAt = lease.Spec.RenewTime.Time
	} else if lease.Spec.AcquireTime != nil {
		w.RenewedAt = lease.Spec.AcquireTime.Time
	}
	return w
}

// String is the line a waiting apply prints.
func (w LockWait) String() string {
	renewed := "never renewed"
	if !w.RenewedAt.IsZero() {
		renewed = "not renewed since " + w.RenewedAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("the apply lock %s/%s is held by %s, %s; it will be taken over at %s unless renewed",
		Namespace, LockName, w.Holder, renewed, w.TakeOverAt.UTC().Format(time.RFC3339))
}

// WaitTimeoutError is returned when a Lease someone else holds was neither
// renewed nor expired within LockOptions.Timeout.
type WaitTimeoutError struct {
	LockWait
	Timeout time.Duration
}

func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("gave up waiting after %s (--lock-timeout): %s; if that run is gone, run 'kcloud unlock'", e.Timeout, e.LockWait)
}
