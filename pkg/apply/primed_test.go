package apply

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"kcloud.dev/kcloud/internal/testenv"
)

func TestPrimedClientServesEachPrimedObjectOnce(t *testing.T) {
	dyn := dynamic.NewForConfigOrDie(testenv.Shared(t).Config())
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	p := newPrimedClient(dyn)
	primedCM := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "primed-only", "namespace": "default"}}}
	p.prime(cms.GroupResource(), "default", "primed-only", primedCM)
	p.prime(cms.GroupResource(), "default", "absent", nil)
	p.prime(cms.GroupResource(), "default", "forgotten", primedCM)
	p.forget(cms.GroupResource(), "default", "forgotten")
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
