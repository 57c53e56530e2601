package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"kcloud.dev/kcloud/internal/testenv"
)

// TestCRDInOneLayerItsResourceInALaterOne is the bug per-stack planning
// hid: on a fresh cluster, a custom resource in L3 whose CRD the same plan
// creates in L2. diff, apply --dry-run and apply must agree that it is a
// create, and apply --dry-run must change nothing.
func TestCRDInOneLayerItsResourceInALaterOne(t *testing.T) {
	srv, err := testenv.StartAPIServer(testenv.WithoutCRDs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := srv.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(),
		"widgets.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: widgets
spec:
  layer: L2
  namespace: platform
  objects:
    - apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata: {name: widgets.example.com}
      spec:
        group: example.com
        names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
        scope: Namespaced
        versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: integer}
`,
		"widget.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: widget
spec:
  layer: L3
  envs: [staging]
  objects:
    - apiVersion: example.com/v1
      kind: Widget
      metadata: {name: w}
      spec: {size: 3}
`,
	})
	run := func(args ...string) (int, string, string) {
		return kcloud(t, append(args, "--kubeconfig", kc, "--context", testContext, "--log-format", "json")...)
	}

	code, stdout, stderr := run("diff", dir)
	if code != 1 || !strings.Contains(stdout, "create Widget data-staging/w (l3-staging)") {
		t.Fatalf("diff: exit %d, want 1 and the Widget as a create:\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = run("apply", dir, "--dry-run")
	if code != 0 || !strings.Contains(stderr, `"status":"created (dry run)"`) || !strings.Contains(stderr, `"kind":"Widget"`) {
		t.Fatalf("apply --dry-run: exit %d, want 0 and the Widget as a create:\n%s", code, stderr)
	}
	ext := dynamic.NewForConfigOrDie(srv.Config())
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := ext.Resource(crds).Get(context.Background(), "widgets.example.com", metav1.GetOptions{}); err == nil {
		t.Fatal("apply --dry-run created the CRD")
	}

	if code, _, stderr := run("apply", dir, "--wait=false"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	w, err := ext.Resource(widgets).Namespace("data-staging").Get(context.Background(), "w", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Widget was not applied: %v", err)
	}
	if size, _, _ := unstructured.NestedInt64(w.Object, "spec", "size"); size != 3 {
		t.Errorf("Widget spec.size = %d, want 3", size)
	}
	if code, stdout, stderr := run("diff", dir); code != 0 {
		t.Errorf("diff after apply: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
}
