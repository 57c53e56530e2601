package inventory_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
)

// TestLockSurvivesLostAnswers: a write of the lock that landed but whose
// answer was lost is recognised as ours — the create is not followed by a
// wait for "another" holder's lease to expire, and a renewal is not taken
// for a takeover — and the lock stays valid.
func TestLockSurvivesLostAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		verb string
	}{
		{"create", testenv.VerbCreate},
		{"renewal", testenv.VerbUpdate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := testenv.NewFaultProxy(testenv.Shared(t).Config())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			c, err := kube.NewForConfig(p.Config(), kube.Options{})
			if err != nil {
				t.Fatal(err)
			}
			direct := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
			w, err := direct.CoordinationV1().Leases(inventory.Namespace).Watch(context.Background(), metav1.ListOptions{
				FieldSelector: fields.OneTermEqualSelector("metadata.name", inventory.LockName).String(),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			p.Inject(testenv.Rule{Verbs: []string{tc.verb}, Path: "/leases", Times: 1, Fault: testenv.Fault{Lost: true}})
			lock, err := inventory.Acquire(context.Background(), c.Typed, inventory.LockOptions{Duration: 3 * time.Second})
			if err != nil {
				t.Fatalf("acquire: %v", err)
			}
			defer func() { _ = lock.Release(context.Background()) }()
			if tc.verb == testenv.VerbCreate && p.Count(testenv.VerbUpdate) != 0 {
				t.Errorf("the lock was taken over from itself: %d updates", p.Count(testenv.VerbUpdate))
			}
			// Renewals every second: the first one's answer is lost (for
			// the renewal case); wait until two more have landed.
			renewals := 0
			for renewals < 3 {
				select {
				case e := <-w.ResultChan():
					if e.Type == watch.Modified {
						renewals++
					}
				case <-lock.Lost():
					t.Fatalf("the lock was lost after %d renewal(s)", renewals)
				}
			}
			if err := lock.Valid(); err != nil {
				t.Errorf("lock after a lost answer: %v", err)
			}
			if p.Faults() != 1 {
				t.Errorf("faults injected: %d, want 1", p.Faults())
			}
		})
	}
}
