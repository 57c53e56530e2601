package diff_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
)

// BenchmarkAllChanged1000 diffs 1,000 live ConfigMaps against a plan that
// changes every one (each is dry-run on the real API server): Run alone,
// as apply and -o json pay it, and Run with the text diff printed.
//
//	go test ./pkg/diff -run '^$' -bench AllChanged -benchmem
func BenchmarkAllChanged1000(b *testing.B) {
	const n = 1000
	c, err := kube.NewForConfig(testenv.Shared(b).Config(), kube.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ns := fmt.Sprintf("bench-%d", nextID())
	if _, err := c.Typed.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	stack := "l4-" + ns
	live, planned := make([]render.Object, n), make([]render.Object, n)
	for i := range n {
		live[i], planned[i] = benchConfigMap(ns, i, "live"), benchConfigMap(ns, i, "planned")
	}
	kube.Parallel(ctx, 16, n, func(i int) {
		u := live[i].DeepCopy()
		u.SetAnnotations(map[string]string{inventory.OwningAnnotation: inventory.ID(stack)})
		if _, err := c.Dynamic.Resource(corev1.SchemeGroupVersion.WithResource("configmaps")).Namespace(ns).Apply(ctx, u.GetName(), u,
			metav1.ApplyOptions{FieldManager: kube.FieldManager, Force: true}); err != nil {
			b.Errorf("apply %s: %v", u.GetName(), err)
		}
	})
	p := plan(ns, render.Stack{Name: stack, Objects: planned})
	for _, print := range []bool{false, true} {
		name := map[bool]string{false: "Run", true: "RunAndPrint"}[print]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := diff.Run(ctx, c, p, diff.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Changes) != n {
					b.Fatalf("%d changes, want %d", len(res.Changes), n)
				}
				if print {
					if err := printer.Diff(io.Discard, res, printer.DiffOptions{Format: "text"}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// benchConfigMap is a ConfigMap of twenty keys, one of them set to value.
func benchConfigMap(ns string, i int, value string) render.Object {
	data := map[string]any{"changed": value}
	for k := range 19 {
		data[fmt.Sprintf("key-%02d", k)] = strings.Repeat(fmt.Sprintf("value %d ", k), 4)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": fmt.Sprintf("cm-%04d", i), "namespace": ns, "labels": map[string]any{"app": "bench"}},
		"data":     data,
	}}
	return render.Object{Unstructured: u, Component: "bench"}
}
