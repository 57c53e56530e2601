package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"kcloud.dev/kcloud/internal/testenv"
)

// TestSpecsLifecycle takes a copy of the real platform (specs/) through its
// life on the test API server, step by step: each step depends on the one
// before, as on a real cluster.
//
// The Kubero operator comes from its pinned upstream manifest, served from
// the manifest cache (filled from the developer's cache or the Go module
// proxy, see specsCopy); its real CRDs are what the plan installs.
func TestSpecsLifecycle(t *testing.T) {
	dir, kubero := specsCopy(t)
	edit := func(name, old, new string) {
		t.Helper()
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s does not contain %q", name, old)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A third environment, to be removed later, and a stateful cache with a
	// claim, to be removed later.
	edit("cluster.yaml", "    - name: prod\n", "    - name: preview\n      prefix: preview\n    - name: prod\n")
	write("l3-data/cache.yaml", `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  layer: L3
  storage:
    - name: data
      size: 1Gi
  objects:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cache-config}
      data: {maxmemory: 64mb}
`)
	// The whole platform, with no --env or --layer, owns the cluster: it
	// gets an API server of its own, away from the other tests' stacks.
	srv := platformServer(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := srv.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	kcLive := func(t *testing.T, args ...string) (int, string, string) {
		t.Helper()
		return kcloud(t, append(args, "--kubeconfig", kc, "--context", testContext, "--log-format", "json")...)
	}
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	dyn := dynamic.NewForConfigOrDie(srv.Config())
	exists := func(gvr schema.GroupVersionResource, ns, name string) bool {
		t.Helper()
		_, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	var (
		configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
		pvcs        = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
		namespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
		deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
		widgets     = schema.GroupVersionResource{Group: "kcloud-test.example.com", Version: "v1", Resource: "widgets"}
	)

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("first diff shows creates", func(t *testing.T) {
		code, stdout, stderr := kcLive(t, "diff", dir)
		if code != 1 || !strings.Contains(stdout, "+ create Namespace platform (l2)") {
			t.Fatalf("exit %d, want 1 with creates\n%s\n%s", code, tail(stdout), stderr)
		}
	})
	step("first apply", func(t *testing.T) {
		code, stdout, stderr := kcLive(t, "apply", dir, "--wait=false")
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		for _, s := range []string{"l1", "l2", "l3-staging", "l3-preview", "l3-prod", "l4-staging", "l4-preview", "l4-prod"} {
			if !regexp.MustCompile(`(?m)^` + s + `\s+[1-9]`).MatchString(stdout) {
				t.Errorf("summary has no created objects for stack %s:\n%s", s, stdout)
			}
		}
	})
	step("second diff has no changes", func(t *testing.T) {
		code, stdout, _ := kcLive(t, "diff", dir)
		if code != 0 || !strings.Contains(stdout, "No changes") {
			t.Fatalf("exit %d, want 0\n%s", code, stdout)
		}
	})
	step("the operator manifest's real CRDs serve the Kubero resource", func(t *testing.T) {
		if kubero != "" {
			t.Skip(kubero)
		}
		checkKubero(t, cs, dyn)
	})
	step("no-op apply changes nothing", func(t *testing.T) {
		code, stdout, stderr := kcLive(t, "apply", dir, "--wait=false")
		if code != 0 || regexp.MustCompile(`(?m)^l\S+\s+[1-9]`).MatchString(stdout) {
			t.Fatalf("exit %d, want 0 and nothing created\n%s\n%s", code, stdout, stderr)
		}
	})
	step("apply waits for health: claims of a WaitForFirstConsumer class are healthy while Pending", func(t *testing.T) {
		// A new claim goes through cli-utils and its kstatus wait; it stays
		// Pending (no pod uses it) and must not block.
		write("l3-data/queue.yaml", `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: queue
spec:
  layer: L3
  envs: [prod]
  storage:
    - name: data
      size: 1Gi
  objects:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: queue-config}
      data: {size: "1"}
`)
		// No controllers here: the charts' StatefulSets of l3-prod are
		// marked ready as their controller would, so --wait meets only
		// the new claim.
		readyStatefulSets(t, cs, "data-prod")
		code, stdout, stderr := kcLive(t, "apply", dir, "--layer", "L3", "--env", "prod", "--timeout", "30s", "--log-level", "debug")
		if code != 0 || !regexp.MustCompile(`(?m)^l3-prod\s+2\s+0\s`).MatchString(stdout) {
			t.Fatalf("apply with --wait: exit %d, want 0 with two objects created\n%s\n%s", code, stdout, stderr)
		}
		if !regexp.MustCompile(`"kind":"PersistentVolumeClaim","name":"queue-data".*"op":"wait","status":"current"`).MatchString(stderr) {
			t.Errorf("no successful wait for the claim:\n%s", tail(stderr))
		}
		// A changed stack: the unchanged claims are checked for health too.
		edit("l3-data/cache.yaml", "maxmemory: 64mb", "maxmemory: 128mb")
		if code, stdout, stderr := kcLive(t, "apply", dir, "--layer", "L3", "--env", "prod", "--timeout", "30s"); code != 0 {
			t.Fatalf("apply of a change with --wait: exit %d\n%s\n%s", code, stdout, stderr)
		}
		// And a no-op stack.
		if code, stdout, stderr := kcLive(t, "apply", dir, "--layer", "L3", "--env", "prod", "--timeout", "30s"); code != 0 {
			t.Fatalf("no-op apply with --wait: exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
	step("a changed value shows exactly that change", func(t *testing.T) {
		edit("l4-apps/example-app.yaml", "replicas: 1", "replicas: 2")
		code, stdout, _ := kcLive(t, "diff", dir, "--env", "prod")
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s", code, stdout)
		}
		var changed []string
		for _, line := range strings.Split(stdout, "\n") {
			if (strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-")) && !strings.HasPrefix(line, "+++") && !strings.HasPrefix(line, "---") {
				changed = append(changed, line)
			}
		}
		if !strings.Contains(stdout, "~ update Deployment apps-prod/example-app (l4-prod)") || strings.Join(changed, "\n") != "-  replicas: 1\n+  replicas: 2" {
			t.Errorf("changed lines:\n%s\nwant only the replicas line", strings.Join(changed, "\n"))
		}
		if code, _, stderr := kcLive(t, "apply", dir, "--wait=false"); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, stderr)
		}
	})
	step("a CRD and its custom resource in one plan diff and apply", func(t *testing.T) {
		write("l2-platform/widgets.yaml", `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: widgets
spec:
  layer: L2
  namespace: platform
  objects:
    - apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata: {name: widgets.kcloud-test.example.com}
      spec:
        group: kcloud-test.example.com
        names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
        scope: Namespaced
        versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
    - apiVersion: kcloud-test.example.com/v1
      kind: Widget
      metadata: {name: main}
      spec: {size: 3}
`)
		code, stdout, stderr := kcLive(t, "diff", dir, "--layer", "L2")
		if code != 1 || !strings.Contains(stdout, "+ create CustomResourceDefinition widgets.kcloud-test.example.com") || !strings.Contains(stdout, "+ create Widget platform/main") {
			t.Fatalf("diff: exit %d, want 1 with both creates\n%s\n%s", code, tail(stdout), stderr)
		}
		if code, _, stderr := kcLive(t, "apply", dir, "--wait=false"); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, stderr)
		}
		if !exists(widgets, "platform", "main") {
			t.Error("Widget platform/main not created")
		}
		if code, stdout, _ := kcLive(t, "diff", dir); code != 0 {
			t.Errorf("diff after apply: exit %d\n%s", code, tail(stdout))
		}
	})
	step("a removed component is shown as a delete, then pruned", func(t *testing.T) {
		// headlamp's chart renders its Deployment (no HelmChart: kcloud
		// renders charts itself); removing the component prunes it.
		if !exists(deployments, "platform", "headlamp") {
			t.Fatal("headlamp Deployment missing before the test")
		}
		if err := os.Remove(filepath.Join(dir, "l2-platform/headlamp.yaml")); err != nil {
			t.Fatal(err)
		}
		code, stdout, _ := kcLive(t, "diff", dir)
		if code != 1 || !strings.Contains(stdout, "- delete Deployment platform/headlamp (l2)") {
			t.Fatalf("diff: exit %d, want the chart's Deployment deleted\n%s", code, tail(stdout))
		}
		if code, _, stderr := kcLive(t, "apply", dir, "--wait=false"); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, stderr)
		}
		if exists(deployments, "platform", "headlamp") {
			t.Error("the removed chart component's Deployment is still there")
		}
	})
	step("a removed stateful component keeps its claims", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, "l3-data/cache.yaml")); err != nil {
			t.Fatal(err)
		}
		code, stdout, _ := kcLive(t, "diff", dir, "--env", "staging")
		if code != 1 || !strings.Contains(stdout, "! detach PersistentVolumeClaim data-staging/cache-data") || !strings.Contains(stdout, "- delete ConfigMap data-staging/cache-config") {
			t.Fatalf("diff: exit %d, want the claim detached and the ConfigMap deleted\n%s", code, tail(stdout))
		}
		code, stdout, stderr := kcLive(t, "apply", dir, "--wait=false")
		if code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, stderr)
		}
		if !strings.Contains(stdout, "PersistentVolumeClaim data-prod/cache-data") {
			t.Errorf("summary does not list the detached claim:\n%s", stdout)
		}
		for _, env := range []string{"staging", "preview", "prod"} {
			if !exists(pvcs, "data-"+env, "cache-data") {
				t.Errorf("claim data-%s/cache-data was deleted", env)
			}
			if exists(configMaps, "data-"+env, "cache-config") {
				t.Errorf("ConfigMap data-%s/cache-config was not pruned", env)
			}
		}
		if code, stdout, _ := kcLive(t, "diff", dir); code != 0 {
			t.Errorf("diff after the detach: exit %d (the claim must be out of the inventory)\n%s", code, tail(stdout))
		}
	})
	step("a removed environment keeps its namespaces", func(t *testing.T) {
		edit("cluster.yaml", "    - name: preview\n      prefix: preview\n", "")
		code, stdout, _ := kcLive(t, "diff", dir)
		if code != 1 || !strings.Contains(stdout, "! detach Namespace data-preview (l3-preview)") || !strings.Contains(stdout, "- delete Deployment apps-preview/example-app (l4-preview)") {
			t.Fatalf("diff: exit %d, want the environment's objects deleted and namespaces detached\n%s", code, tail(stdout))
		}
		code, _, stderr := kcLive(t, "apply", dir, "--wait=false")
		if code == 0 || !strings.Contains(stderr, "--allow-empty") {
			t.Fatalf("apply without --allow-empty: exit %d, want a refusal naming --allow-empty\n%s", code, stderr)
		}
		if !exists(configMaps, "apps-preview", "example-app") {
			t.Fatal("the refused apply pruned something")
		}
		if code, _, stderr := kcLive(t, "apply", dir, "--wait=false", "--allow-empty"); code != 0 {
			t.Fatalf("apply --allow-empty: exit %d\n%s", code, stderr)
		}
		for _, ns := range []string{"data-preview", "apps-preview"} {
			if !exists(namespaces, "", ns) {
				t.Errorf("namespace %s was deleted", ns)
			}
		}
		if !exists(pvcs, "data-preview", "business-pg-data") {
			t.Error("claim data-preview/business-pg-data was deleted")
		}
		if exists(configMaps, "apps-preview", "example-app") {
			t.Error("ConfigMap apps-preview/example-app was not pruned")
		}
		if code, stdout, _ := kcLive(t, "diff", dir); code != 0 {
			t.Errorf("diff after removing the environment: exit %d\n%s", code, tail(stdout))
		}
	})
	step("status checks health, drift and local-path", func(t *testing.T) {
		code, stdout, _ := kcLive(t, "status", dir)
		if code != 1 || !strings.Contains(stdout, "StorageClass local-path: missing") || !strings.Contains(stdout, "Deployment apps-prod/example-app InProgress") {
			t.Fatalf("status on the test server: exit %d, want 1 with the missing local-path and unready Deployments\n%s", code, stdout)
		}
		retain := corev1.PersistentVolumeReclaimRetain
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local-path"}, Provisioner: "rancher.io/local-path", ReclaimPolicy: &retain}
		if _, err := cs.StorageV1().StorageClasses().Create(context.Background(), sc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		_, stdout, _ = kcLive(t, "status", dir)
		if !strings.Contains(stdout, "StorageClass local-path: reclaimPolicy is Retain, the table says Delete") {
			t.Errorf("status does not report local-path's reclaimPolicy:\n%s", stdout)
		}
		edit("l4-apps/example-app.yaml", "replicas: 2", "replicas: 3")
		_, stdout, _ = kcLive(t, "status", dir, "--env", "prod")
		if !regexp.MustCompile(`(?m)^l4-prod\s+yes\s+\d+\s+\d+\s+1$`).MatchString(stdout) {
			t.Errorf("status does not count the drift of l4-prod:\n%s", stdout)
		}
	})
}

// platformServer starts an API server of the test's own for the whole
// platform, as a fresh K3s: K3s's own CRDs but not cert-manager's (kcloud
// renders the cert-manager chart, CRDs included), no webhook admission.
func platformServer(t testing.TB) *testenv.APIServer {
	t.Helper()
	srv, err := testenv.StartAPIServer(testenv.FreshK3s())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	// cert-manager's post-install hook Job (startupapicheck) completes.
	testenv.JobController(t, srv.Config(), "cert-manager", func(*batchv1.Job) testenv.ChartOutcome {
		return testenv.ChartOutcome{Log: "The cert-manager API is ready\n"}
	})
	return srv
}

// tail keeps the end of long output for failure messages.
func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// checkKubero checks what specs/ installs for Kubero: the upstream
// manifest's 21 CRDs and operator, the Kubero resource with its data on
// the retained class, and the Secret its UI reads.
func checkKubero(t *testing.T, cs kubernetes.Interface, dyn dynamic.Interface) {
	t.Helper()
	ctx := context.Background()
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	crds, err := dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kubero []string
	for _, crd := range crds.Items {
		if group, _, _ := unstructured.NestedString(crd.Object, "spec", "group"); group == "application.kubero.dev" {
			kubero = append(kubero, crd.GetName())
		}
	}
	if len(kubero) != 21 {
		t.Errorf("%d CRDs of application.kubero.dev, want the manifest's 21: %v", len(kubero), kubero)
	}
	dep, err := cs.AppsV1().Deployments("kubero-operator-system").Get(ctx, "kubero-operator-controller-manager", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var images []string
	for _, c := range dep.Spec.Template.Spec.Containers {
		images = append(images, c.Image)
	}
	// The manifest's removed gcr.io sidecar is patched to one that exists.
	want := []string{
		"registry.k8s.io/kubebuilder/kube-rbac-proxy:v0.11.0@sha256:0df4ae70e3bd0feffcec8f5cdb428f4abe666b667af991269ec5cb0bbda65869",
		"ghcr.io/kubero-dev/kubero-operator/kuberoapp:v0.2.1",
	}
	if !slices.Equal(images, want) {
		t.Errorf("operator images = %v, want %v", images, want)
	}
	cr, err := dyn.Resource(schema.GroupVersionResource{Group: "application.kubero.dev", Version: "v1alpha1", Resource: "kuberoes"}).
		Namespace("kubero").Get(ctx, "kubero", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if class, _, _ := unstructured.NestedString(cr.Object, "spec", "kubero", "database", "storageClassName"); class != "local-path-retain" {
		t.Errorf("Kubero's database is on %q, want local-path-retain", class)
	}
	secret, err := cs.CoreV1().Secrets("kubero").Get(ctx, "kubero-secrets", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["KUBERO_WEBHOOK_SECRET"]) != "demo-kubero-webhook-secret" { // decrypted from specs/ with hack/demo.agekey
		t.Errorf("kubero-secrets lacks KUBERO_WEBHOOK_SECRET: keys %v", slices.Sorted(maps.Keys(secret.Data)))
	}
}

// readyStatefulSets sets the status of every StatefulSet in ns as the
// StatefulSet controller does once all its replicas are ready.
func readyStatefulSets(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	list, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sts := range list.Items {
		n := int32(1)
		if sts.Spec.Replicas != nil {
			n = *sts.Spec.Replicas
		}
		sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: n, ReadyReplicas: n, CurrentReplicas: n,
			UpdatedReplicas: n, AvailableReplicas: n, CurrentRevision: "r1", UpdateRevision: "r1"}
		if _, err := cs.AppsV1().StatefulSets(ns).UpdateStatus(ctx, &sts, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}
