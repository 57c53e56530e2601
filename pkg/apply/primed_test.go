package apply

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/kube"
)

func TestPrimedClientServesEachPrimedObjectOnce(t *testing.T) {
	c, err := kube.NewForConfig(testenv.Shared(t).Config(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	p := newPrimedClient(c.Dynamic, c.Mapper)
	primedCM := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "primed-only", "namespace": "default"}}}
	ref := func(name string) change.Ref {
		return change.Ref{GroupKind: schema.GroupKind{Kind: "ConfigMap"}, Namespace: "default", Name: name}
	}
	p.prime(ref("primed-only"), primedCM)
	p.prime(ref("absent"), nil)
	p.prime(ref("forgotten"), primedCM)
	p.forget(ref("forgotten"))
	ctx := context.Background()
	ri := p.Resource(cms).Namespace("default")

	for _, tc := range []struct {
		name         string
		wantFound    bool
		wantNotFound bool
	}{
		{"primed-only", true, false}, // served from the plan's read
		{"primed-only", false, true}, // then read through: the server has none
		{"absent", false, true},      // known absent
		{"forgotten", false, true},   // forgotten: read through
	} {
		got, err := ri.Get(ctx, tc.name, metav1.GetOptions{})
		if tc.wantFound && (err != nil || got.GetName() != tc.name) {
			t.Errorf("Get(%s) = %v, %v; want the primed object", tc.name, got, err)
		}
		if tc.wantNotFound && !apierrors.IsNotFound(err) {
			t.Errorf("Get(%s) err = %v, want NotFound", tc.name, err)
		}
	}
}
