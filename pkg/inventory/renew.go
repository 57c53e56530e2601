package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Holder is the identity this lock is held under.
func (l *Lock) Holder() string { return l.holder }

// Lost is closed when the lock is found to be no longer ours.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

func (l *Lock) markLost() { l.once.Do(func() { close(l.lost) }) }

func (l *Lock) renew(ctx context.Context) {
	defer close(l.done)
	t := l.clock.NewTicker(l.duration / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		if err := l.renewOnce(ctx); errors.Is(err, ErrLockLost) {
			l.markLost()
			return
		}
	}
}

// renewOnce writes a new renewTime over the Lease as we last wrote it; any
// other write since (a takeover, an unlock) makes it fail: the lock is lost.
// A conflict may also be our own renewal landing twice (its answer was lost
// and it was sent again): the Lease still names us then, and is kept.
func (l *Lock) renewOnce(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.expired() {
		return ErrLockLost
	}
	next := l.lease.DeepCopy()
	start := l.clock.Now()
	now := metav1.NewMicroTime(start)
	next.Spec.RenewTime = &now
	leases := l.client.CoordinationV1().Leases(Namespace)
	updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		mine, err := l.mine(ctx)
		if err != nil {
			return err
		}
		if mine == nil {
			return ErrLockLost
		}
		// Still ours: an earlier renewal landed though its answer was lost.
		// It was sent at its renewTime, read from our clock.
		at := l.renewed
		if mine.Spec.RenewTime != nil && mine.Spec.RenewTime.After(at) {
			at = mine.Spec.RenewTime.Time
		}
		l.setRenewed(mine, at)
		return nil
	}
	if apierrors.IsNotFound(err) {
		return ErrLockLost
	}
	if err != nil {
		return err
	}
	l.setRenewed(updated, start)
	return nil
}

// setRenewed records a write of ours that succeeded. l.mu is held.
func (l *Lock) setRenewed(lease *coordinationv1.Lease, at time.Time) {
	l.lease, l.renewed = lease, at
	deadline := at.Add(l.duration)
	l.deadline.Store(&deadline)
}

// expired reports whether our last successful write is a whole duration
// old on our clock: another run may have taken the lock by now. l.mu is
// held.
func (l *Lock) expired() bool { return l.clock.Since(l.renewed) >= l.duration }

// Valid fails when the lock is lost or has expired on our clock, without
// asking the API server and without waiting for a renewal in flight: what
// every write of a run asks before it is sent.
func (l *Lock) Valid() error {
	select {
	case <-l.lost:
		return ErrLockLost
	default:
	}
	if d := l.deadline.Load(); d == nil || !l.clock.Now().Before(*d) {
		l.markLost()
		return ErrLockLost
	}
	return nil
}

// Check verifies, against the API server, that the lock is still ours and
// has not expired under a stalled run. It is what runs before anything is
// deleted.
func (l *Lock) Check(ctx context.Context) error {
	select {
	case <-l.lost:
		return ErrLockLost
	default:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.expired() {
		l.markLost()
		return ErrLockLost
	}
	cur, err := l.client.CoordinationV1().Leases(Namespace).Get(ctx, LockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l.markLost()
		return ErrLockLost
	}
	if err != nil {
		return fmt.Errorf("check the apply lock: %w", err)
	}
	if cur.UID != l.lease.UID || cur.ResourceVersion != l.lease.ResourceVersion {
		l.markLost()
		return ErrLockLost
	}
	return nil
}

// Release stops renewing and deletes the Lease if it is still ours: the
// delete carries the resourceVersion of our last write as a precondition,
// so a Lease another run took over is left alone. It works on a cancelled
// context too (Ctrl-C).
func (l *Lock) Release(ctx context.Context) error {
	l.stop()
	<-l.done
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	l.mu.Lock()
	uid, rv := l.lease.UID, l.lease.ResourceVersion
	l.mu.Unlock()
	err := l.client.CoordinationV1().Leases(Namespace).Delete(ctx, LockName, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // no longer ours: nothing to release
	}
	if err != nil {
		return fmt.Errorf("release the apply lock %s/%s: %w", Namespace, LockName, err)
	}
	return nil
}
