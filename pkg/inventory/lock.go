package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// LockName is the Lease that makes applies take turns.
const LockName = "kcloud-lock"

// DefaultLockDuration is how long a lock outlives its last renewal. A
// killed apply leaves its lock; after this long the next one takes it.
const DefaultLockDuration = 30 * time.Second

// ErrLockLost is returned once the lock is no longer ours (deleted by
// 'kcloud unlock' or taken over after it expired).
var ErrLockLost = errors.New("the apply lock " + Namespace + "/" + LockName + " was lost")

// ErrNotLocked is returned by Unlock when there is no lock.
var ErrNotLocked = errors.New("no apply lock " + Namespace + "/" + LockName)

// HeldError says another run holds the lock.
type HeldError struct {
	Holder    string
	Age       time.Duration
	ExpiresIn time.Duration
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("another apply holds the lock %s/%s: %s, for %s (it expires %s after its last renewal, in %s); if that run is gone, run 'kcloud unlock'",
		Namespace, LockName, e.Holder, e.Age.Round(time.Second), DefaultLockDuration, e.ExpiresIn.Round(time.Second))
}

// LockOptions tune Acquire; the zero value is what kcloud uses.
type LockOptions struct {
	// Holder names this run in the Lease; default DefaultHolder().
	Holder string
	// Duration is the Lease's duration; it is renewed every third of it.
	Duration time.Duration
}

// Lock is a held apply lock, renewed in the background until Release.
type Lock struct {
	client   kubernetes.Interface
	holder   string
	duration time.Duration

	mu    sync.Mutex
	lease *coordinationv1.Lease
	lost  chan struct{}
	once  sync.Once
	stop  context.CancelFunc
	done  chan struct{}
}

// DefaultHolder names this process: user@host pid N.
func DefaultHolder() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s pid %d", name, host, os.Getpid())
}

// Acquire takes the lock by creating the Lease. A live Lease held by
// someone else is a *HeldError; an expired one is taken over.
func Acquire(ctx context.Context, c kubernetes.Interface, opts LockOptions) (*Lock, error) {
	if opts.Holder == "" {
		opts.Holder = DefaultHolder()
	}
	if opts.Duration <= 0 {
		opts.Duration = DefaultLockDuration
	}
	now := metav1.NewMicroTime(time.Now())
	secs := int32(opts.Duration / time.Second)
	if secs < 1 {
		secs = 1
	}
	want := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name:      LockName,
			Namespace: Namespace,
			Labels:    map[string]string{ManagedByLabel: ManagedBy},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       &opts.Holder,
			LeaseDurationSeconds: &secs,
			AcquireTime:          &now,
			RenewTime:            &now,
		},
	}
	leases := c.CoordinationV1().Leases(Namespace)
	lease, err := leases.Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var cur *coordinationv1.Lease
		cur, err = leases.Get(ctx, LockName, metav1.GetOptions{})
		if err == nil {
			if held := heldBy(cur, time.Now()); held != nil {
				return nil, held
			}
			// Expired: take it over, unless someone else does first.
			want.ResourceVersion = cur.ResourceVersion
			lease, err = leases.Update(ctx, want, metav1.UpdateOptions{})
			if apierrors.IsConflict(err) {
				cur, _ = leases.Get(ctx, LockName, metav1.GetOptions{})
				if held := heldBy(cur, time.Now()); held != nil {
					return nil, held
				}
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("take the apply lock %s/%s: %w", Namespace, LockName, err)
	}
	l := &Lock{client: c, holder: opts.Holder, duration: opts.Duration, lease: lease, lost: make(chan struct{}), done: make(chan struct{})}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = cancel
	go l.renew(rctx)
	return l, nil
}

// heldBy returns a *HeldError when lease is live, nil when expired.
func heldBy(lease *coordinationv1.Lease, now time.Time) *HeldError {
	if lease == nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return nil
	}
	dur := DefaultLockDuration
	if lease.Spec.LeaseDurationSeconds != nil {
		dur = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	renewed := lease.CreationTimestamp.Time
	if lease.Spec.RenewTime != nil {
		renewed = lease.Spec.RenewTime.Time
	}
	expires := renewed.Add(dur)
	if now.After(expires) {
		return nil
	}
	acquired := renewed
	if lease.Spec.AcquireTime != nil {
		acquired = lease.Spec.AcquireTime.Time
	}
	return &HeldError{Holder: *lease.Spec.HolderIdentity, Age: now.Sub(acquired), ExpiresIn: expires.Sub(now)}
}

// Holder is the identity this lock is held under.
func (l *Lock) Holder() string { return l.holder }

// Lost is closed when the lock is found to be no longer ours.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

func (l *Lock) markLost() { l.once.Do(func() { close(l.lost) }) }

func (l *Lock) renew(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.duration / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := l.renewOnce(ctx); errors.Is(err, ErrLockLost) {
			l.markLost()
			return
		}
	}
}

func (l *Lock) renewOnce(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	leases := l.client.CoordinationV1().Leases(Namespace)
	cur, err := leases.Get(ctx, LockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ErrLockLost
	}
	if err != nil {
		return err
	}
	if cur.UID != l.lease.UID || cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity != l.holder {
		return ErrLockLost
	}
	now := metav1.NewMicroTime(time.Now())
	cur.Spec.RenewTime = &now
	updated, err := leases.Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	l.lease = updated
	return nil
}

// Check verifies, against the API server, that the lock is still ours. It
// is what runs before anything is deleted.
func (l *Lock) Check(ctx context.Context) error {
	select {
	case <-l.lost:
		return ErrLockLost
	default:
	}
	cur, err := l.client.CoordinationV1().Leases(Namespace).Get(ctx, LockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l.markLost()
		return ErrLockLost
	}
	if err != nil {
		return fmt.Errorf("check the apply lock: %w", err)
	}
	l.mu.Lock()
	uid := l.lease.UID
	l.mu.Unlock()
	if cur.UID != uid || cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity != l.holder {
		l.markLost()
		return ErrLockLost
	}
	return nil
}

// Release stops renewing and deletes the Lease if it is still ours. It
// works on a cancelled context too (Ctrl-C).
func (l *Lock) Release(ctx context.Context) error {
	l.stop()
	<-l.done
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	l.mu.Lock()
	uid := l.lease.UID
	l.mu.Unlock()
	err := l.client.CoordinationV1().Leases(Namespace).Delete(ctx, LockName, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // no longer ours: nothing to release
	}
	if err != nil {
		return fmt.Errorf("release the apply lock %s/%s: %w", Namespace, LockName, err)
	}
	return nil
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
// is none or it has expired (for status).
func Held(ctx context.Context, c kubernetes.Interface) (*HeldError, error) {
	cur, err := c.CoordinationV1().Leases(Namespace).Get(ctx, LockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the apply lock: %w", err)
	}
	return heldBy(cur, time.Now()), nil
}
