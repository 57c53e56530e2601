package apply_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
)

// The objects of a test chart "demo": a ConfigMap, a Service and a
// claim, as its templates render them (no template directives, so that
// the plan's objects are what Helm installed).
var demoTemplates = map[string]string{
	"templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: demo-settings, namespace: NS}\ndata: {mode: primary}",
	"templates/service.yaml":   "apiVersion: v1\nkind: Service\nmetadata: {name: demo, namespace: NS}\nspec:\n  ports: [{name: http, port: 80, targetPort: 8080}]\n  selector: {app: demo}",
	"templates/pvc.yaml":       "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: demo-data, namespace: NS}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}",
}

// TestAdoptHelmRelease: a release the Helm SDK installed (as the helm CLI
// or Terraform's helm provider do), which K3s's helm-controller also
// holds through a HelmChart with its finalizer, is taken over by a chart
// component of the same name and namespace: no object is deleted or
// created again (uids unchanged), the release's revision Secrets and its
// HelmChart are gone — the HelmChart's finalizer removed first, so no
// uninstall could run — the objects are in the stack's inventory, and the
// next diff is empty.
func TestAdoptHelmRelease(t *testing.T) {
	p, c := proxied(t)
	_, opts, id := setup(t)
	ns := "adopt-" + id
	ctx := context.Background()
	// kcloud made the namespace; Helm installed the release into it.
	if _, err := apply.Run(ctx, c, plan(stack(t, "l4-"+id, ns, nsDoc)), opts); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n"}
	var docs []string
	for name, doc := range demoTemplates {
		files[name] = strings.ReplaceAll(doc, "namespace: NS", "namespace: {{ .Release.Namespace }}")
		docs = append(docs, doc)
	}
	chart, err := testenv.LoadChartFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := testenv.Shared(t).WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	testenv.HelmInstall(t, kubeconfig, ns, "demo", chart, nil)
	dyn := dynamic.NewForConfigOrDie(testenv.Shared(t).Config())
	hc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart",
		"metadata": map[string]any{"name": "demo", "namespace": "kube-system", "finalizers": []any{"wrangler.cattle.io/on-helm-chart-remove"}},
		"spec":     map[string]any{"chart": "demo", "targetNamespace": ns},
	}}
	helmCharts := dyn.Resource(schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"}).Namespace("kube-system")
	if _, err := helmCharts.Create(ctx, hc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // never left terminating for the next test
		_, _ = helmCharts.Patch(ctx, "demo", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		_ = helmCharts.Delete(ctx, "demo", metav1.DeleteOptions{})
	})
	s := chartStack(t, "l4-"+id, ns, docs...)
	before := uids(t, dyn, s.Unstructured())

	var mu sync.Mutex
	var removals []string // DELETEs and POSTs, but the lock's and the inventory's (creates of a ConfigMap or Lease)
	p.Inject(testenv.Rule{When: func(r *http.Request) bool {
		if (r.Method == http.MethodDelete || r.Method == http.MethodPost) && !isDryRun(r) && !isLock(r) && !strings.Contains(r.URL.Path, "/configmaps/inventory-") && !strings.HasSuffix(r.URL.Path, "/configmaps") && !strings.HasSuffix(r.URL.Path, "/leases") {
			mu.Lock()
			removals = append(removals, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		return false
	}})
	if _, err := apply.Run(ctx, c, plan(s), opts); err != nil {
		t.Fatal(err)
	}
	wantRemovals := []string{
		"DELETE /apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/demo",
		"DELETE /api/v1/namespaces/" + ns + "/secrets/sh.helm.release.v1.demo.v1",
	}
	if diff := cmp.Diff(wantRemovals, removals); diff != "" {
		t.Errorf("deletes and creates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, uids(t, dyn, s.Unstructured())); diff != "" {
		t.Errorf("uids (-before +after):\n%s", diff)
	}
	if _, err := helmCharts.Get(ctx, "demo", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the HelmChart is still there (its finalizer kept?): %v", err)
	}
	refs, _, err := inventory.Get(ctx, c.Typed, "l4-"+id)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range s.Objects {
		if !containsRef(refs, change.RefOf(o.Unstructured)) {
			t.Errorf("the inventory does not list %s", change.RefOf(o.Unstructured))
		}
	}
	res, err := diff.Run(ctx, c, plan(s), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Changes {
		if ch.Changed() || ch.Conflict != change.NoConflict {
			t.Errorf("after adoption: %s %s %s\n%s", ch.Ref, ch.Action, ch.Conflict, ch.Diff)
		}
	}
}

func containsRef(refs []change.Ref, ref change.Ref) bool {
	for _, r := range refs {
		if r == ref {
			return true
		}
	}
	return false
}

// uids reads the uid of each object.
func uids(t *testing.T, dyn dynamic.Interface, objs []*unstructured.Unstructured) map[string]types.UID {
	t.Helper()
	out := map[string]types.UID{}
	for _, o := range objs {
		gvr := schema.GroupVersionResource{Version: "v1", Resource: strings.ToLower(o.GetKind()) + "s"}
		if o.GetKind() == "PersistentVolumeClaim" {
			gvr.Resource = "persistentvolumeclaims"
		}
		var live *unstructured.Unstructured
		var err error
		if o.GetKind() == "Namespace" {
			live, err = dyn.Resource(gvr).Get(context.Background(), o.GetName(), metav1.GetOptions{})
		} else {
			live, err = dyn.Resource(gvr).Namespace(o.GetNamespace()).Get(context.Background(), o.GetName(), metav1.GetOptions{})
		}
		if err != nil {
			t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
		out[o.GetKind()+"/"+o.GetName()] = live.GetUID()
	}
	return out
}

// TestPrunedHelmChartIsNotUninstalled: a HelmChart an earlier kcloud
// rendered, which helm-controller holds with its finalizer, is pruned
// when no component renders it any more: its finalizer is removed first,
// so the HelmChart is gone at once and no uninstall could run — the
// release's objects (here a ConfigMap it installed) stay.
func TestPrunedHelmChartIsNotUninstalled(t *testing.T) {
	c, opts, id := setup(t)
	ns := "oldchart-" + id
	ctx := context.Background()
	hcDoc := "apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata: {name: old-" + id + ", namespace: kube-system}\nspec: {chart: demo, targetNamespace: NS}"
	released := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-release, namespace: NS}\ndata: {a: b}"
	if _, err := apply.Run(ctx, c, plan(stack(t, "l4-"+id, ns, nsDoc+"\n---\n"+cmDoc+"\n---\n"+hcDoc)), opts); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(testenv.Shared(t).Config())
	helmCharts := dyn.Resource(schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"}).Namespace("kube-system")
	// helm-controller adds its finalizer and installs the release.
	if _, err := helmCharts.Patch(ctx, "old-"+id, types.MergePatchType, []byte(`{"metadata":{"finalizers":["wrangler.cattle.io/on-helm-chart-remove"]}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = helmCharts.Patch(ctx, "old-"+id, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	})
	cs := kubernetes.NewForConfigOrDie(testenv.Shared(t).Config())
	rel := stack(t, "", ns, released).Objects[0]
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: rel.GetName(), Namespace: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Run(ctx, c, plan(stack(t, "l4-"+id, ns, nsDoc+"\n---\n"+cmDoc)), opts); err != nil {
		t.Fatal(err)
	}
	if hc, err := helmCharts.Get(ctx, "old-"+id, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the pruned HelmChart is still there (finalizers %v): %v", hc.GetFinalizers(), err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, rel.GetName(), metav1.GetOptions{}); err != nil {
		t.Errorf("the release's object: %v", err)
	}
}
