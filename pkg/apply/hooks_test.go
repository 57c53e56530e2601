package apply_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/render"
)

// hookCM is a ConfigMap chart hook.
func hookCM(name, events, weight, policy string) string {
	doc := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: NS\n  annotations:\n    helm.sh/hook: %q\n", name, events)
	if weight != "" {
		doc += fmt.Sprintf("    helm.sh/hook-weight: %q\n", weight)
	}
	if policy != "" {
		doc += fmt.Sprintf("    helm.sh/hook-delete-policy: %q\n", policy)
	}
	return doc + "data: {a: b}"
}

// hookJob is a Job chart hook.
func hookJob(name, events, weight, policy string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
  namespace: NS
  annotations: {helm.sh/hook: %q, helm.sh/hook-weight: %q, helm.sh/hook-delete-policy: %q}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: "example.org/migrate:1.0"}]`, name, events, weight, policy)
}

// chartStack is a stack whose objects (but its namespace) a chart "demo"
// of component "demo" rendered.
func chartStack(t *testing.T, name, ns string, docs ...string) render.Stack {
	t.Helper()
	s := stack(t, name, ns, strings.Join(append([]string{nsDoc}, docs...), "\n---\n"))
	for i := range s.Objects[1:] {
		o := &s.Objects[i+1]
		o.Component = "demo"
		o.Template = "demo/templates/" + strings.ToLower(o.GetKind()) + "-" + o.GetName() + ".yaml"
	}
	return s
}

// applied records, in order, the names of the objects a run applies
// (server-side apply PATCHes, no dry runs) in namespace ns; in every
// namespace and none when ns is empty.
func applied(p *testenv.FaultProxy, ns string) func() []string {
	var mu sync.Mutex
	var names []string
	prefix := "/namespaces/" + ns + "/"
	p.Inject(testenv.Rule{When: func(r *http.Request) bool {
		if r.Method == http.MethodPatch && !isDryRun(r) && (ns == "" || strings.Contains(r.URL.Path, prefix)) && !strings.Contains(r.URL.Path, "/status") && !isLock(r) {
			mu.Lock()
			names = append(names, r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
			mu.Unlock()
		}
		return false
	}})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(names)
	}
}

// TestHookOrderAndDeletePolicy: on install, the pre-install hooks run by
// weight then name before the chart's other objects, the post-install
// hooks after them; hook-succeeded hooks are gone afterwards,
// before-hook-creation ones stay; test hooks and pre-upgrade hooks are not
// applied; no hook is in the stack's inventory. On an upgrade that changes
// the chart, the pre-upgrade hooks run and the install hooks do not; an
// apply that changes nothing runs no hook.
func TestHookOrderAndDeletePolicy(t *testing.T) {
	p, c := proxied(t)
	_, opts, id := setup(t)
	ns := "hooks-" + id
	cfg := testenv.Shared(t).Config()
	testenv.JobController(t, cfg, ns, func(*batchv1.Job) testenv.ChartOutcome { return testenv.ChartOutcome{} })
	docs := []string{
		cmDoc,
		hookCM("pre-b", "pre-install", "5", "hook-succeeded"),
		hookCM("pre-a", "pre-install", "5", ""),
		hookJob("pre-job", "pre-install,pre-upgrade", "-1", "before-hook-creation,hook-succeeded"),
		hookCM("post-c", "post-install", "", "before-hook-creation"),
		hookCM("upg", "pre-upgrade", "2", "before-hook-creation"),
		hookCM("test-x", "test", "", ""),
	}
	order := applied(p, ns)
	if _, err := apply.Run(context.Background(), c, plan(chartStack(t, "l4-"+id, ns, docs...)), opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"pre-job", "pre-a", "pre-b", "settings", "post-c"}, order()); diff != "" {
		t.Errorf("install: applied (-want +got):\n%s", diff)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	exists := func(name string) bool {
		_, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	_, jobErr := cs.BatchV1().Jobs(ns).Get(context.Background(), "pre-job", metav1.GetOptions{})
	got := map[string]bool{"pre-a": exists("pre-a"), "pre-b": exists("pre-b"), "post-c": exists("post-c"), "upg": exists("upg"), "test-x": exists("test-x"), "pre-job": jobErr == nil}
	want := map[string]bool{"pre-a": true, "pre-b": false, "post-c": true, "upg": false, "test-x": false, "pre-job": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hooks in the cluster after install (-want +got):\n%s", diff)
	}
	refs, _, err := inventory.Get(context.Background(), c.Typed, "l4-"+id)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(refs, func(r change.Ref) bool { return r.Name != "settings" && r.Name != ns }) {
		t.Errorf("the inventory lists hooks: %v", refs)
	}

	// An apply that changes nothing runs no hook.
	p.Reset()
	order = applied(p, ns)
	if _, err := apply.Run(context.Background(), c, plan(chartStack(t, "l4-"+id, ns, docs...)), opts); err != nil {
		t.Fatal(err)
	}
	if got := order(); len(got) != 0 {
		t.Errorf("a no-op apply applied %v", got)
	}

	// An upgrade runs the pre-upgrade hooks, not the install ones.
	p.Reset()
	order = applied(p, ns)
	docs[0] = strings.Replace(cmDoc, "{a: b}", "{a: c}", 1)
	if _, err := apply.Run(context.Background(), c, plan(chartStack(t, "l4-"+id, ns, docs...)), opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"pre-job", "upg", "settings"}, order()); diff != "" {
		t.Errorf("upgrade: applied (-want +got):\n%s", diff)
	}
}

// TestFailingHookJob: a pre-install hook Job fails; apply fails naming the
// chart template, with the tail of the Job's pod log, before any of the
// chart's other objects is applied; the Job, whose policy says
// hook-failed, is deleted.
func TestFailingHookJob(t *testing.T) {
	p, c := proxied(t)
	_, opts, id := setup(t)
	ns := "hookfail-" + id
	cfg := testenv.Shared(t).Config()
	testenv.JobController(t, cfg, ns, func(*batchv1.Job) testenv.ChartOutcome {
		return testenv.ChartOutcome{Fail: true, Log: "connecting to db\nERROR: relation \"users\" does not exist\n"}
	})
	order := applied(p, ns)
	s := chartStack(t, "l4-"+id, ns, cmDoc, hookJob("migrate", "pre-install", "0", "hook-failed"))
	_, err := apply.Run(context.Background(), c, plan(s), opts)
	if err == nil {
		t.Fatal("apply succeeded, want the failed hook")
	}
	for _, want := range []string{"demo/templates/job-migrate.yaml", "BackoffLimitExceeded", `ERROR: relation "users" does not exist`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if diff := cmp.Diff([]string{"migrate"}, order()); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.BatchV1().Jobs(ns).Get(context.Background(), "migrate", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the failed hook Job (hook-failed) is still there: %v", err)
	}
}

// TestUnsupportedHookIsAnError: a hook kcloud cannot run (pre-delete) is
// an error naming the chart template, and nothing is written.
func TestUnsupportedHookIsAnError(t *testing.T) {
	p, c := proxied(t)
	_, opts, id := setup(t)
	ns := "hookbad-" + id
	s := chartStack(t, "l4-"+id, ns, cmDoc, hookCM("cleanup", "pre-delete", "", ""))
	_, err := apply.Run(context.Background(), c, plan(s), opts)
	if err == nil || !strings.Contains(err.Error(), "demo/templates/configmap-cleanup.yaml") || !strings.Contains(err.Error(), "pre-delete") {
		t.Fatalf("err = %v, want the pre-delete hook named with its template", err)
	}
	if n := p.Writes(); n != 0 {
		t.Errorf("%d write(s) reached the API server", n)
	}
}
