package health

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func TestHealthOfClaims(t *testing.T) {
	modes := &bindingModes{
		modes: map[string]storagev1.VolumeBindingMode{
			"local-path-retain": storagev1.VolumeBindingWaitForFirstConsumer,
			"immediate":         storagev1.VolumeBindingImmediate,
		},
		defaultName: "local-path-retain",
	}
	pvc := func(class *string, phase string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolumeClaim",
			"metadata": map[string]any{"name": "data", "namespace": "ns"},
			"spec":     map[string]any{},
		}}
		if class != nil {
			u.Object["spec"].(map[string]any)["storageClassName"] = *class
		}
		if phase != "" {
			u.Object["status"] = map[string]any{"phase": phase}
		}
		return u
	}
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name  string
		obj   *unstructured.Unstructured
		modes *bindingModes
		want  status.Status
	}{
		{"pending, WaitForFirstConsumer class: current", pvc(str("local-path-retain"), "Pending"), modes, status.CurrentStatus},
		{"no status yet, WaitForFirstConsumer class: current", pvc(str("local-path-retain"), ""), modes, status.CurrentStatus},
		{"pending, default class waits for a consumer: current", pvc(nil, "Pending"), modes, status.CurrentStatus},
		{"pending, Immediate class: in progress", pvc(str("immediate"), "Pending"), modes, status.InProgressStatus},
		{"pending, unknown class: in progress", pvc(str("other"), "Pending"), modes, status.InProgressStatus},
		{"pending, no StorageClasses known: in progress", pvc(str("local-path-retain"), "Pending"), nil, status.InProgressStatus},
		{"bound: current", pvc(str("immediate"), "Bound"), modes, status.CurrentStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := health(tc.obj, tc.modes)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("status (-want +got):\n%s", d)
			}
		})
	}
}
