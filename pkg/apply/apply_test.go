package apply_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

var counter int

func setup(t *testing.T) (*kube.Clients, apply.Options, string) {
	t.Helper()
	c, err := kube.NewForConfig(testenv.Shared(t).Config(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	counter++
	return c, apply.Options{}, fmt.Sprintf("t%d", counter)
}

// plan is the plan of stacks, selecting no other test's stacks for pruning.
func plan(stacks ...render.Stack) *render.Result {
	tabs, err := spec.LoadTables()
	if err != nil {
		panic(err) // the embedded schema: every test would fail
	}
	return render.NewResult(tabs, render.Selection{Env: "none"}, stacks...)
}

// stack parses YAML documents into a stack, NS replaced by ns.
func stack(t *testing.T, name, ns, docs string) render.Stack {
	t.Helper()
	s := render.Stack{Name: name}
	for _, doc := range strings.Split(strings.ReplaceAll(docs, "NS", ns), "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		s.Objects = append(s.Objects, render.Object{Unstructured: u, Component: "test"})
	}
	return s
}

const nsDoc = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: NS\n  annotations: {client.lifecycle.config.k8s.io/deletion: detach}"
const cmDoc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: NS}\ndata: {a: b}"
const pvcDoc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: NS\n  annotations: {client.lifecycle.config.k8s.io/deletion: detach}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"

func TestLostLockStopsPruningBeforeAnyDelete(t *testing.T) {
	c, opts, id := setup(t)
	ns := "lost-" + id
	full := stack(t, "l4-"+id, ns, nsDoc+"\n---\n"+cmDoc)
	if _, err := apply.Run(context.Background(), c, plan(full), opts); err != nil {
		t.Fatal(err)
	}
	// The next apply prunes the ConfigMap, but loses its lock first (an
	// admin runs 'kcloud unlock').
	opts.Events = func(e apply.Event) {
		if e.Type == apply.StackStarted {
			if _, err := inventory.Unlock(context.Background(), c.Typed); err != nil {
				t.Errorf("unlock: %v", err)
			}
		}
	}
	_, err := apply.Run(context.Background(), c, plan(stack(t, "l4-"+id, ns, nsDoc)), opts)
	if !errors.Is(err, inventory.ErrLockLost) {
		t.Errorf("err = %v, want the lost lock", err)
	}
	if _, err := c.Typed.CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{}); err != nil {
		t.Errorf("the ConfigMap was deleted after the lock was lost: %v", err)
	}
}

func TestPruneDetachesProtectedKindsUnlessDataLossIsAllowed(t *testing.T) {
	for _, tc := range []struct {
		name          string
		allowDataLoss bool
		wantStatus    map[string]string
		wantDetached  int
	}{
		{"detach", false, map[string]string{"ConfigMap": "deleted", "PersistentVolumeClaim": "detached"}, 1},
		{"allow data loss", true, map[string]string{"ConfigMap": "deleted", "PersistentVolumeClaim": "deleted"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, opts, id := setup(t)
			ns := "prune-" + id
			if _, err := apply.Run(context.Background(), c, plan(stack(t, "l3-"+id, ns, nsDoc+"\n---\n"+cmDoc+"\n---\n"+pvcDoc)), opts); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			opts.AllowDataLoss = tc.allowDataLoss
			opts.AllowMassPrune = true // two of its three objects go
			opts.Events = func(e apply.Event) {
				if e.Type == apply.ObjectEvent && (e.Op == apply.OpPrune || e.Op == apply.OpDelete) {
					got[e.Object.GroupKind.Kind] = e.Status()
				}
			}
			res, err := apply.Run(context.Background(), c, plan(stack(t, "l3-"+id, ns, nsDoc)), opts)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.wantStatus, got); d != "" {
				t.Errorf("final status per kind (-want +got):\n%s", d)
			}
			if len(res.Detached) != tc.wantDetached {
				t.Errorf("detached = %v", res.Detached)
			}
			pvc, err := c.Typed.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), "data", metav1.GetOptions{})
			kept := err == nil && pvc.DeletionTimestamp == nil
			if kept == tc.allowDataLoss {
				t.Errorf("claim kept = %v with allowDataLoss %v", kept, tc.allowDataLoss)
			}
			ids, _, _ := inventory.Get(context.Background(), c.Typed, "l3-"+id)
			if len(ids) != 1 {
				t.Errorf("inventory after prune = %v, want only the namespace", ids)
			}
		})
	}
}

func TestEmptyStackIsRefused(t *testing.T) {
	c, opts, id := setup(t)
	ns := "empty-" + id
	other := stack(t, "l3-"+id, "other-"+id, nsDoc+"\n---\n"+cmDoc)
	if _, err := apply.Run(context.Background(), c, plan(other, stack(t, "l4-"+id, ns, nsDoc+"\n---\n"+cmDoc)), opts); err != nil {
		t.Fatal(err)
	}
	// Its components are gone (a CLI test covers the namespace kcloud
	// still generates for it).
	_, err := apply.Run(context.Background(), c, plan(other, render.Stack{Name: "l4-" + id}), opts)
	var empty *apply.EmptyStackError
	if !errors.As(err, &empty) || empty.Objects != 2 || !strings.Contains(err.Error(), "ConfigMap "+ns+"/settings") {
		t.Fatalf("err = %v, want an EmptyStackError for 2 objects naming the ConfigMap", err)
	}
	if _, err := c.Typed.CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{}); err != nil {
		t.Errorf("the refused apply deleted something: %v", err)
	}
}

// TestCustomResourcesWaitForTheirChart is cert-manager on a fresh K3s: the
// stack deploys the chart (a HelmChart) and a ClusterIssuer whose CRD the
// chart installs, some time after the HelmChart is applied.
func TestCustomResourcesWaitForTheirChart(t *testing.T) {
	srv, err := testenv.StartAPIServer(testenv.OnlyCRDs("helmcharts.helm.cattle.io", "helmchartconfigs.helm.cattle.io"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c, err := kube.NewForConfig(srv.Config(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := stack(t, "l1", "", `apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: cert-manager, namespace: kube-system}
spec: {chart: cert-manager, repo: https://charts.jetstack.io}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt
  annotations: {config.kubernetes.io/depends-on: helm.cattle.io/namespaces/kube-system/HelmChart/cert-manager}
spec: {acme: {server: https://acme.example.com, privateKeySecretRef: {name: letsencrypt-account-key}}}`)

	// diff shows the custom resource as a create, not an error.
	planned, err := diff.Run(context.Background(), c, plan(s), diff.Options{})
	if err != nil || len(planned.Changes) != 2 || planned.Changes[1].Action != change.Create {
		t.Fatalf("diff before the chart ran: %v, %+v", err, planned)
	}

	// K3s's Helm controller, played by the test: once apply waits for the
	// chart's kinds, the chart's CRDs appear.
	crds, err := testenv.CRDs()
	if err != nil {
		t.Fatal(err)
	}
	ext := apiextensionsclient.NewForConfigOrDie(srv.Config())
	installed := false
	opts := apply.Options{Timeout: time.Minute, Events: func(e apply.Event) {
		if e.Type != apply.Warning || !strings.Contains(e.Message, "waiting until the cluster serves") || installed {
			return
		}
		installed = true
		hc := schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"}
		if _, err := c.Dynamic.Resource(hc).Namespace("kube-system").Get(context.Background(), "cert-manager", metav1.GetOptions{}); err != nil {
			t.Errorf("apply waits for the chart's kinds before applying the chart: %v", err)
		}
		for _, crd := range crds {
			if crd.Spec.Group == "cert-manager.io" {
				if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(context.Background(), crd, metav1.CreateOptions{}); err != nil {
					t.Errorf("install %s: %v", crd.Name, err)
				}
			}
		}
	}}
	res, err := apply.Run(context.Background(), c, plan(s), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !installed {
		t.Fatal("apply never waited for the chart's kinds")
	}
	if got := res.Stacks[0].Create; got != 2 {
		t.Errorf("created %d objects, want 2: %+v", got, res.Stacks[0])
	}
	ci := schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}
	if _, err := c.Dynamic.Resource(ci).Get(context.Background(), "letsencrypt", metav1.GetOptions{}); err != nil {
		t.Errorf("ClusterIssuer not applied: %v", err)
	}
	ids, _, _ := inventory.Get(context.Background(), c.Typed, "l1")
	if len(ids) != 2 {
		t.Errorf("inventory = %v, want both objects", ids)
	}

	// Without a chart that could install it, an unserved kind still fails
	// before anything is written.
	bad := stack(t, "l2", "", "apiVersion: application.kubero.dev/v1alpha1\nkind: Kubero\nmetadata: {name: k, namespace: kubero}")
	_, err = apply.Run(context.Background(), c, plan(bad), apply.Options{Timeout: time.Minute})
	if !kube.IsUnserved(err) {
		t.Errorf("err = %v, want an unserved kind", err)
	}
}

// TestOneChangeAppliesOneAndKeepsTheInventory: only what changed goes
// through cli-utils; the inventory still lists everything rendered.
func TestOneChangeAppliesOneAndKeepsTheInventory(t *testing.T) {
	c, opts, id := setup(t)
	ns := "one-" + id
	docs := func(n int, changed string) string {
		out := []string{nsDoc}
		for i := range n {
			v := "same"
			if i == 0 {
				v = changed
			}
			out = append(out, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%02d, namespace: NS}\ndata: {v: %s}", i, v))
		}
		return strings.Join(out, "\n---\n")
	}
	name := "l4-" + id
	if _, err := apply.Run(context.Background(), c, plan(stack(t, name, ns, docs(50, "old"))), opts); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	opts.Events = func(e apply.Event) {
		if e.Type == apply.ObjectEvent && e.Op != apply.OpWait {
			got[e.Status()]++
		}
	}
	res, err := apply.Run(context.Background(), c, plan(stack(t, name, ns, docs(49, "new"))), opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{"configured": 1, "unchanged": 49, "deleted": 1}, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if s := res.Stacks[0]; s.Update != 1 || s.Unchanged != 49 || s.Delete != 1 {
		t.Errorf("summary = %+v", s)
	}
	ids, _, _ := inventory.Get(context.Background(), c.Typed, name)
	if len(ids) != 50 {
		t.Errorf("inventory lists %d objects, want 50 (namespace and 49 ConfigMaps)", len(ids))
	}
	cm, err := c.Typed.CoreV1().ConfigMaps(ns).Get(context.Background(), "cm-00", metav1.GetOptions{})
	if err != nil || cm.Data["v"] != "new" {
		t.Errorf("changed ConfigMap = %v, %v", cm.Data, err)
	}
	if _, err := c.Typed.CoreV1().ConfigMaps(ns).Get(context.Background(), "cm-49", metav1.GetOptions{}); err == nil {
		t.Error("cm-49 was not pruned")
	}
}

// TestHelmChartInstallJob: apply waits for the Job K3s's Helm controller
// runs for each HelmChart; a failed install fails the stack naming the
// chart and showing the end of the install log.
func TestHelmChartInstallJob(t *testing.T) {
	c, opts, id := setup(t)
	failing := "broken-" + id
	var log strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&log, "helm output line %d\n", i)
	}
	log.WriteString("Error: looks like \"https://nope.example.com\" is not a valid chart repository\n")
	testenv.HelmController(t, testenv.Shared(t).Config(), func(hc *unstructured.Unstructured) testenv.ChartOutcome {
		return testenv.ChartOutcome{Fail: hc.GetName() == failing, Log: log.String()}
	})
	chart := func(name, repo string) string {
		return fmt.Sprintf("apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata: {name: %s, namespace: kube-system}\nspec: {chart: %s, repo: %q, version: 1.0.0}", name, name, repo)
	}
	opts.Wait, opts.Timeout = true, time.Minute

	if _, err := apply.Run(context.Background(), c, plan(stack(t, "l2-"+id, "", chart("fine-"+id, "https://charts.example.com"))), opts); err != nil {
		t.Fatalf("a chart that installs: %v", err)
	}
	_, err := apply.Run(context.Background(), c, plan(stack(t, "l3-"+id, "", chart(failing, "https://nope.example.com"))), opts)
	if err == nil {
		t.Fatal("a chart whose install Job failed: apply succeeded")
	}
	for _, want := range []string{
		"HelmChart kube-system/" + failing + " (chart " + failing + " 1.0.0 from https://nope.example.com)",
		"install Job helm-install-" + failing + " failed: BackoffLimitExceeded",
		"last 20 lines of pod helm-install-" + failing + "-x1:\n",
		"  | helm output line 30\n",
		`  | Error: looks like "https://nope.example.com" is not a valid chart repository`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "helm output line 11\n") {
		t.Errorf("error shows more than the log's last lines:\n%v", err)
	}
}
