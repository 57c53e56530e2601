package inventory_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/inventory"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

func TestLock(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
	ctx := context.Background()

	a, err := inventory.Acquire(ctx, cs, inventory.LockOptions{Holder: "a", Duration: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Held: a second taker gets a HeldError naming the holder.
	_, err = inventory.Acquire(ctx, cs, inventory.LockOptions{Holder: "b"})
	var held *inventory.HeldError
	if !errors.As(err, &held) || held.Holder != "a" || !strings.Contains(err.Error(), "kcloud unlock") {
		t.Fatalf("second Acquire: %v, want held by a", err)
	}
	// Renewed while running: still held after more than its duration.
	time.Sleep(4 * time.Second)
	if err := a.Check(ctx); err != nil {
		t.Fatalf("Check after renewals: %v", err)
	}
	if h, _ := inventory.Held(ctx, cs); h == nil || h.Holder != "a" {
		t.Fatalf("Held = %v, want a", h)
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

	// A lock whose holder was killed stops being renewed; once expired,
	// the next run takes it over.
	holder, secs := "killed", int32(1)
	past := metav1.NewMicroTime(time.Now().Add(-time.Minute))
	if _, err := cs.CoordinationV1().Leases(inventory.Namespace).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: inventory.LockName, Namespace: inventory.Namespace},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &past, RenewTime: &past},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := inventory.Acquire(ctx, cs, inventory.LockOptions{Holder: "b"})
	if err != nil {
		t.Fatalf("Acquire over an expired lock: %v", err)
	}
	if h, _ := inventory.Held(ctx, cs); h == nil || h.Holder != "b" {
		t.Errorf("Held = %v, want b", h)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if h, _ := inventory.Held(ctx, cs); h != nil {
		t.Errorf("Held after Release = %v", h)
	}
	if _, err := inventory.Acquire(ctx, cs, inventory.LockOptions{Holder: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Unlock(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Unlock(ctx, cs); !errors.Is(err, inventory.ErrNotLocked) {
		t.Errorf("Unlock with no lock: %v, want ErrNotLocked", err)
	}
}
