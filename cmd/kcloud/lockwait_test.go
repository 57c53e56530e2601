package main

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/pkg/inventory"
)

// TestApplyLockWaitSaysWhoAndGivesUp (issue 18): a kcloud-lock Lease held
// by someone else with leaseDurationSeconds 600 and never renewed makes
// apply say who holds it, since when it was not renewed and when it would
// be taken over; --lock-timeout bounds the wait, then apply exits 1 naming
// the holder and 'kcloud unlock', having written nothing.
func TestApplyLockWaitSaysWhoAndGivesUp(t *testing.T) {
	env := uniqueEnv("lockwait")
	dir := writeTree(t, map[string]string{"cluster.yaml": clusterYAML(env), "web.yaml": component("web", "L4", env, configMaps(1, "x"))})
	ctx := context.Background()
	cs := typed(t)
	holder, secs := "mallory@ci pid 7 (stale)", int32(600)
	renewed := metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: inventory.LockName, Namespace: inventory.Namespace},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &renewed, RenewTime: &renewed},
	}
	if _, err := cs.CoordinationV1().Leases(inventory.Namespace).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = inventory.Unlock(context.Background(), cs) })

	code, _, stderr := kcLive(t, "apply", dir, "--env", env, "--wait=false", "--lock-timeout", "300ms")
	for _, want := range []string{
		"waiting: the apply lock kube-system/kcloud-lock is held by " + holder + ", not renewed since 2026-01-02T03:04:05Z; it will be taken over at ",
		"gave up waiting after 300ms (--lock-timeout)", "run 'kcloud unlock'",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != exitFailed {
		t.Errorf("apply: exit %d, want %d", code, exitFailed)
	}
	if _, found, _ := inventory.Get(ctx, cs, "l4-"+env); found {
		t.Error("the waiting apply wrote an inventory")
	}
	if code, _, _ := kcLive(t, "apply", dir, "--env", env, "--wait=false", "--lock-timeout", "0s"); code != exitUsage {
		t.Errorf("--lock-timeout 0s: exit %d, want %d", code, exitUsage)
	}
}
