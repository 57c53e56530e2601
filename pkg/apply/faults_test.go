package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
)

// shortLock is a lock that expires 2 s after its last renewal (the
// Lease's duration is whole seconds), so that expiry happens within a test.
var shortLock = inventory.LockOptions{Duration: 2 * time.Second}

// proxied returns clients that reach the shared API server through a
// fault proxy, with a short retry budget.
func proxied(t *testing.T) (*testenv.FaultProxy, *kube.Clients) {
	t.Helper()
	p, err := testenv.NewFaultProxy(testenv.Shared(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	c, err := kube.NewForConfig(p.Config(), kube.Options{Retry: kube.Retry{Attempts: 3, Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

func isDryRun(r *http.Request) bool { return r.URL.Query().Get("dryRun") != "" }

func isLock(r *http.Request) bool { return strings.Contains(r.URL.Path, "/leases/"+inventory.LockName) }

// isRealWrite reports whether r changes an object other than the lock.
func isRealWrite(r *http.Request) bool {
	return r.Method != http.MethodGet && !isDryRun(r) && !isLock(r)
}

func configMaps(n int) string {
	docs := []string{nsDoc}
	for i := range n {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: NS}\ndata: {a: b}", i))
	}
	return strings.Join(docs, "\n---\n")
}

// TestStalledRunStopsBeforeItsNextWrite: a run stalls mid-stack (the proxy
// holds one of its writes, and its renewals fail), its lock expires and
// another holder takes it over; when the run resumes, it sends no further
// write — not even the retry of the write that was held — and fails naming
// the lost lock. The new holder's Lease is left alone.
func TestStalledRunStopsBeforeItsNextWrite(t *testing.T) {
	p, c := proxied(t)
	_, opts, id := setup(t)
	opts.Lock = shortLock
	ns := "stalled-" + id
	hold, held := make(chan struct{}), make(chan struct{})
	var (
		mu       sync.Mutex
		takeover bool
		late     []string // writes sent after the takeover
		real     int
	)
	p.Inject(testenv.Rule{When: func(r *http.Request) bool { // observes, never fires
		mu.Lock()
		defer mu.Unlock()
		if takeover && r.Method != http.MethodGet && !isDryRun(r) {
			late = append(late, r.Method+" "+r.URL.Path)
		}
		return false
	}})
	p.Inject(testenv.Rule{Verbs: []string{testenv.VerbUpdate}, When: isLock, Fault: testenv.Fault{Status: 503}})
	p.Inject(testenv.Rule{Verbs: []string{testenv.VerbPatch}, Times: 1, Fault: testenv.Fault{Hold: hold, Drop: true}, When: func(r *http.Request) bool {
		if isDryRun(r) {
			return false
		}
		if real++; real == 2 {
			close(held)
			return true
		}
		return false
	}})
	done := make(chan error, 1)
	go func() {
		_, err := apply.Run(context.Background(), c, plan(stack(t, "l4-"+id, ns, configMaps(5))), opts)
		done <- err
	}()
	<-held
	// Another run takes the lock once it has stayed unrenewed for its
	// duration, on its own clock.
	direct := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
	next, err := inventory.Acquire(context.Background(), direct, shortLock)
	if err != nil {
		t.Fatalf("the next run could not take over the expired lock: %v", err)
	}
	defer func() { _ = next.Release(context.Background()) }()
	mu.Lock()
	takeover = true
	mu.Unlock()
	close(hold) // the stalled run resumes: its held write is answered with a dropped connection
	err = <-done
	if !errors.Is(err, inventory.ErrLockLost) || !strings.Contains(err.Error(), "next write") {
		t.Errorf("err = %v, want the lost lock, stopped before the next write", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, w := range late {
		if !strings.Contains(w, "/leases/") { // its release is a delete with a precondition: a no-op now
			t.Errorf("the stalled run wrote after the takeover: %s", w)
		}
	}
	lease, err := direct.CoordinationV1().Leases(inventory.Namespace).Get(context.Background(), inventory.LockName, metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != next.Holder() {
		t.Errorf("the new holder's Lease: %v %v, want held by %s", lease, err, next.Holder())
	}
}

// TestAPIDownMidRunNextApplyConverges: the API server goes away after a
// few writes of a run, for longer than the retry budget; the run fails,
// and once the server is back the next run takes over the lock it left
// (after the lock's duration) and converges: the diff is empty and the
// inventory lists everything.
func TestAPIDownMidRunNextApplyConverges(t *testing.T) {
	p, c := proxied(t)
	_, opts, id := setup(t)
	opts.Lock = shortLock
	ns := "down-" + id
	pl := plan(stack(t, "l4-"+id, ns, configMaps(8)))
	var mu sync.Mutex
	writes, down := 0, false
	p.Inject(testenv.Rule{Fault: testenv.Fault{Drop: true}, When: func(r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if isRealWrite(r) {
			writes++
		}
		down = down || writes > 4
		return down
	}})
	if _, err := apply.Run(context.Background(), c, pl, opts); err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("err = %v, want the run to give up on the API server", err)
	}
	p.Reset()
	if _, err := apply.Run(context.Background(), c, pl, opts); err != nil {
		t.Fatalf("the next apply, the API server back: %v", err)
	}
	res, err := diff.Run(context.Background(), c, pl, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasChanges() {
		t.Errorf("the next apply did not converge: the diff has changes")
	}
	if ids, _, _ := inventory.Get(context.Background(), c.Typed, "l4-"+id); len(ids) != 9 {
		t.Errorf("inventory lists %d objects, want 9", len(ids))
	}
}
