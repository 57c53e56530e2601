package inventory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/inventory"
)

const lockDuration = 3 * time.Second

// waitingClock is a fake clock that reports each wait Acquire starts, so
// a test moves time forward exactly when Acquire waits: no sleeps.
type waitingClock struct {
	*clocktesting.FakeClock
	waits chan time.Duration
}

func newClock() *waitingClock {
	return &waitingClock{FakeClock: clocktesting.NewFakeClock(time.Now()), waits: make(chan time.Duration)}
}

func (c *waitingClock) After(d time.Duration) <-chan time.Time {
	ch := c.FakeClock.After(d)
	c.waits <- d
	return ch
}

type acquired struct {
	lock *inventory.Lock
	err  error
}

// acquire runs Acquire with clk; onWait runs at each of its waits, before
// the clock moves on by that wait.
func acquire(t *testing.T, cs kubernetes.Interface, holder string, clk *waitingClock, onWait func()) (*inventory.Lock, error) {
	t.Helper()
	done := make(chan acquired, 1)
	go func() {
		l, err := inventory.Acquire(context.Background(), cs, inventory.LockOptions{Holder: holder, Duration: lockDuration, Clock: clk})
		done <- acquired{l, err}
	}()
	for waits := 0; ; waits++ {
		select {
		case r := <-done:
			return r.lock, r.err
		case d := <-clk.waits:
			if waits > 1000 {
				t.Fatal("Acquire never decided")
			}
			if onWait != nil {
				onWait()
			}
			clk.Step(d)
		}
	}
}

// renewed moves a holder's clock by a third of the duration, so its lock
// renews, and waits for that write to reach the API server.
func renewed(t *testing.T, cs kubernetes.Interface, clk *clocktesting.FakeClock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := cs.CoordinationV1().Leases(inventory.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", inventory.LockName).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// The watch starts with the Lease as it is.
	if ev := <-w.ResultChan(); ev.Type != watch.Added {
		t.Fatalf("lease watch: first event %s", ev.Type)
	}
	clk.Step(lockDuration / 3)
	for ev := range w.ResultChan() {
		if ev.Type == watch.Modified {
			return
		}
	}
	t.Fatal("the holder did not renew its lock")
}

func holderOf(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	cur, err := cs.CoordinationV1().Leases(inventory.Namespace).Get(context.Background(), inventory.LockName, metav1.GetOptions{})
	if err != nil {
		return "(none: " + err.Error() + ")"
	}
	return *cur.Spec.HolderIdentity
}

func cleanupLock(t *testing.T, cs kubernetes.Interface) {
	t.Cleanup(func() { _, _ = inventory.Unlock(context.Background(), cs) })
}

func TestLockHeldWhileRenewed(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
	cleanupLock(t, cs)
	clkA := newClock()
	a, err := acquire(t, cs, "a", clkA, nil)
	if err != nil {
		t.Fatal(err)
	}
	// b watches the Lease; a renews it while b waits, so it is held.
	_, err = acquire(t, cs, "b", newClock(), func() { renewed(t, cs, clkA.FakeClock) })
	var held *inventory.HeldError
	if !errors.As(err, &held) || held.Holder != "a" || !strings.Contains(err.Error(), "kcloud unlock") {
		t.Fatalf("second Acquire: %v, want held by a", err)
	}
	if err := a.Check(context.Background()); err != nil {
		t.Fatalf("Check after renewals: %v", err)
	}
	if h, _ := inventory.Held(context.Background(), cs); h == nil || h.Holder != "a" {
		t.Fatalf("Held = %v, want a", h)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h, err := inventory.Held(context.Background(), cs); h != nil || err != nil {
		t.Errorf("Held after Release = %v, %v", h, err)
	}
}

// A run whose lock expired (it stalled) must neither keep writing nor, on
// its way out, delete the lock the next run took over; a third run must
// then find the lock held.
func TestLockExpiredHolderLeavesTheTakeoverAlone(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
	cleanupLock(t, cs)
	ctx := context.Background()
	clkA := newClock()
	a, err := acquire(t, cs, "a", clkA, nil)
	if err != nil {
		t.Fatal(err)
	}
	// a stalls: its clock never moves, so it never renews. b sees the Lease
	// unchanged for its whole duration, on b's clock, and takes it over.
	clkB := newClock()
	b, err := acquire(t, cs, "b", clkB, nil)
	if err != nil {
		t.Fatalf("Acquire over a stalled lock: %v", err)
	}
	if err := a.Check(ctx); !errors.Is(err, inventory.ErrLockLost) {
		t.Errorf("stale holder's Check: %v, want ErrLockLost", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Errorf("stale holder's Release: %v", err)
	}
	if got := holderOf(t, cs); got != "b" {
		t.Fatalf("after the stale holder released, the lock is held by %s, want b", got)
	}
	_, err = acquire(t, cs, "c", newClock(), func() { renewed(t, cs, clkB.FakeClock) })
	var held *inventory.HeldError
	if !errors.As(err, &held) || held.Holder != "b" {
		t.Fatalf("third Acquire: %v, want held by b", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLockStalledRunExpires(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
	cleanupLock(t, cs)
	clk := newClock()
	a, err := acquire(t, cs, "a", clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release(context.Background())
	if err := a.Check(context.Background()); err != nil {
		t.Fatalf("fresh lock: %v", err)
	}
	// No renewal got through for a whole duration (the run, or the API
	// server, stalled): the run must stop before its next write.
	clk.SetTime(clk.Now().Add(lockDuration))
	if err := a.Check(context.Background()); !errors.Is(err, inventory.ErrLockLost) {
		t.Errorf("Check of an expired lock: %v, want ErrLockLost", err)
	}
	select {
	case <-a.Lost():
	default:
		t.Error("Lost() not closed")
	}
}

// A Lease left by a killed run, with timestamps from a clock far ahead of
// ours, is still taken over once it stays unchanged for its duration.
func TestLockTakeoverIgnoresTheHoldersClock(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
	cleanupLock(t, cs)
	ctx := context.Background()
	holder, secs := "killed", int32(lockDuration/time.Second)
	future := metav1.NewMicroTime(time.Now().Add(24 * time.Hour))
	if _, err := cs.CoordinationV1().Leases(inventory.Namespace).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: inventory.LockName, Namespace: inventory.Namespace},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &future, RenewTime: &future},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	b, err := acquire(t, cs, "b", clk, nil)
	if err != nil {
		t.Fatalf("Acquire over a dead lock: %v", err)
	}
	if got := holderOf(t, cs); got != "b" {
		t.Errorf("holder = %s, want b", got)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLockUnlock(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
	cleanupLock(t, cs)
	ctx := context.Background()
	a, err := acquire(t, cs, "a", newClock(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Unlock (an admin) makes the holder lose it.
	if _, err := inventory.Unlock(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(ctx); !errors.Is(err, inventory.ErrLockLost) {
		t.Errorf("Check after unlock: %v, want ErrLockLost", err)
	}
	select {
	case <-a.Lost():
	default:
		t.Error("Lost() not closed")
	}
	if err := a.Release(ctx); err != nil {
		t.Errorf("Release of a lost lock: %v", err)
	}
	if _, err := inventory.Unlock(ctx, cs); !errors.Is(err, inventory.ErrNotLocked) {
		t.Errorf("Unlock with no lock: %v, want ErrNotLocked", err)
	}
}

func TestDefaultHolderIsUnique(t *testing.T) {
	a, b := inventory.DefaultHolder(), inventory.DefaultHolder()
	if a == b {
		t.Errorf("two DefaultHolder() calls gave the same identity %q", a)
	}
}
