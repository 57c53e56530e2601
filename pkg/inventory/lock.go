package inventory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sync"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// LockName is the Lease that makes applies take turns.
const LockName = "kcloud-lock"

// DefaultLockDuration is how long a lock outlives its last renewal. A
// killed apply leaves its lock; after this long the next one takes it.
const DefaultLockDuration = 30 * time.Second

// ErrLockLost is returned once the lock is no longer ours (deleted by
// 'kcloud unlock', taken over after it expired, or not renewed for its
// whole duration).
var ErrLockLost = errors.New("the apply lock " + Namespace + "/" + LockName + " was lost")

// ErrNotLocked is returned by Unlock when there is no lock.
var ErrNotLocked = errors.New("no apply lock " + Namespace + "/" + LockName)

// LockOptions tune Acquire; the zero value is what kcloud uses.
type LockOptions struct {
	// Holder names this run in the Lease; default DefaultHolder().
	Holder string
	// Duration is the Lease's duration; it is renewed every third of it.
	Duration time.Duration
	// Clock measures renewals and expiry; default the real clock. Tests
	// inject a fake one.
	Clock clock.WithTicker
	// Timeout bounds the wait for a Lease someone else holds and does not
	// renew: after it Acquire returns a *WaitTimeoutError. Zero waits
	// until the Lease can be taken over.
	Timeout time.Duration
	// Waiting, when set, is told once who holds the Lease Acquire waits on.
	Waiting func(LockWait)
}

// Lock is a held apply lock, renewed in the background until Release.
type Lock struct {
	client   kubernetes.Interface
	holder   string
	duration time.Duration
	clock    clock.WithTicker
	timeout  time.Duration
	waiting  func(LockWait)

	mu sync.Mutex
	// lease is the Lease as we last wrote it: its resourceVersion is the
	// precondition of every later write and of the release.
	lease *coordinationv1.Lease
	// renewed is when, on our clock, the last write of ours succeeded.
	renewed time.Time
	// deadline is when the lock expires on our clock without another
	// renewal; read without l.mu.
	deadline atomic.Pointer[time.Time]
	lost     chan struct{}
	once     sync.Once
	stop     context.CancelFunc
	done     chan struct{}
}

// DefaultHolder names this process: user@host pid N and a random nonce, so
// that two containers that share a host name and pid 1 differ.
func DefaultHolder() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	nonce := make([]byte, 4)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%s@%s pid %d (%s)", name, host, os.Getpid(), hex.EncodeToString(nonce))
}

// Acquire takes the lock by creating the Lease. A Lease someone else holds
// is watched, on our own clock, as client-go's leader election does: if it
// is renewed, Acquire returns a *HeldError; if it stays unchanged for its
// whole duration, its holder is gone and the Lease is taken over. The
// holder's timestamps are never compared with our clock.
func Acquire(ctx context.Context, c kubernetes.Interface, opts LockOptions) (*Lock, error) {
	if opts.Holder == "" {
		opts.Holder = DefaultHolder()
	}
	if opts.Duration <= 0 {
		opts.Duration = DefaultLockDuration
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	l := &Lock{client: c, holder: opts.Holder, duration: opts.Duration, clock: opts.Clock,
		timeout: opts.Timeout, waiting: opts.Waiting, lost: make(chan struct{}), done: make(chan struct{})}
	lease, start, err := l.take(ctx)
	if err != nil {
		return nil, err
	}
	l.setRenewed(lease, start)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = cancel
	go l.renew(rctx)
	return l, nil
}

// want is the Lease this run writes when it takes the lock.
func (l *Lock) want() *coordinationv1.Lease {
	now := metav1.NewMicroTime(l.clock.Now())
	secs := max(int32(l.duration/time.Second), 1)
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name:      LockName,
			Namespace: Namespace,
			Labels:    map[string]string{ManagedByLabel: ManagedBy},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       &l.holder,
			LeaseDurationSeconds: &secs,
			AcquireTime:          &now,
			RenewTime:            &now,
		},
	}
}

// take creates the Lease, or takes over one whose holder has stopped
// renewing it. It returns when, on our clock, the write that took it was
// sent: the lock is valid from then, not from the reply, so a slow reply
// shortens the lock rather than stretching it.
func (l *Lock) take(ctx context.Context) (*coordinationv1.Lease, time.Time, error) {
	leases := l.client.CoordinationV1().Leases(Namespace)
	wrap := takeError
	transient := 0
	// pending is when the first of our writes whose outcome is unknown
	// was sent: if one landed, the lock is valid from then.
	var pending time.Time
	unknown := func(start time.Time) {
		if pending.IsZero() {
			pending = start
		}
	}
	for {
		start := l.clock.Now()
		lease, err := leases.Create(ctx, l.want(), metav1.CreateOptions{})
		if err == nil {
			return lease, start, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			if !l.again(ctx, err, &transient) {
				return nil, start, wrap(err)
			}
			unknown(start)
		}
		// A write whose answer was lost may have landed: the Lease is
		// ours if it names our holder (the nonce makes it unique), valid
		// from the first such write.
		if !pending.IsZero() {
			mine, err := l.mine(ctx)
			if err != nil {
				if l.again(ctx, err, &transient) {
					continue
				}
				return nil, start, wrap(err)
			}
			if mine != nil {
				return mine, pending, nil
			}
		}
		cur, err := l.awaitExpiry(ctx)
		if err != nil {
			var held *HeldError
			var timedOut *WaitTimeoutError
			if errors.As(err, &held) || errors.As(err, &timedOut) {
				return nil, start, err
			}
			return nil, start, wrap(err)
		}
		if cur == nil {
			continue // deleted meanwhile: create it
		}
		// Expired: take it over, unless someone else writes it first (the
		// resourceVersion is the precondition).
		want := l.want()
		want.ResourceVersion = cur.ResourceVersion
		start = l.clock.Now()
		lease, err = leases.Update(ctx, want, metav1.UpdateOptions{})
		switch {
		case err == nil:
			return lease, start, nil
		case apierrors.IsConflict(err), apierrors.IsNotFound(err):
			continue // someone else moved first: look again
		case l.again(ctx, err, &transient):
			unknown(start) // it may have landed: look again
			continue
		default:
			return nil, start, wrap(err)
		}
	}
}

// takeError says that taking the lock failed, and why.
func takeError(err error) error {
	return fmt.Errorf("take the apply lock %s/%s: %w", Namespace, LockName, err)
}

// awaitExpiry watches the existing Lease. It returns a *HeldError as soon
// as the Lease changes — renewed, released or deleted: its holder is alive
// — the Lease once it has stayed unchanged for its duration on our clock,
// or nil when there was none to watch.
func (l *Lock) awaitExpiry(ctx context.Context) (*coordinationv1.Lease, error) {
	leases := l.client.CoordinationV1().Leases(Namespace)
	first, err := leases.Get(ctx, LockName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if first.Spec.HolderIdentity == nil || *first.Spec.HolderIdentity == "" {
		return first, nil // released, not deleted: free to take
	}
	dur := leaseDuration(first)
	observed := l.clock.Now()
	poll := min(max(dur/10, 100*time.Millisecond), 2*time.Second)
	if l.timeout > 0 {
		poll = min(poll, l.timeout)
	}
	wait := newLockWait(first, observed.Add(dur))
	if l.waiting != nil {
		l.waiting(wait)
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.clock.After(poll):
		}
		cur, err := leases.Get(ctx, LockName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			// Released while we watched: its holder was alive, and this
			// run started while it held the lock. Refuse rather than queue.
			return nil, heldError(first, l.clock.Now(), 0)
		}
		if err != nil {
			return nil, err
		}
		if cur.ResourceVersion != first.ResourceVersion {
			if cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity == "" {
				return nil, heldError(first, l.clock.Now(), 0)
			}
			return nil, heldError(cur, l.clock.Now(), leaseDuration(cur))
		}
		if l.clock.Since(observed) > dur {
			return cur, nil
		}
		if l.timeout > 0 && l.clock.Since(observed) >= l.timeout {
			return nil, &WaitTimeoutError{LockWait: wait, Timeout: l.timeout}
		}
	}
}

func leaseDuration(lease *coordinationv1.Lease) time.Duration {
	if lease.Spec.LeaseDurationSeconds != nil && *lease.Spec.LeaseDurationSeconds > 0 {
		return time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	return DefaultLockDuration
}
