package health

import (
	"context"
	"fmt"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/engine"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/event"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/object"
)

var (
	pvcGK = schema.GroupKind{Kind: "PersistentVolumeClaim"}
	crdGK = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
)

var (
	_ engine.StatusReader = (*pvcReader)(nil)
	_ engine.StatusReader = presentReader{}
)

// bindingModes knows the StorageClasses' volumeBindingMode.
type bindingModes struct {
	modes       map[string]storagev1.VolumeBindingMode
	defaultName string
}

// readBindingModes lists the StorageClasses.
func readBindingModes(ctx context.Context, c kubernetes.Interface) (*bindingModes, error) {
	list, err := c.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list StorageClasses: %w", err)
	}
	b := &bindingModes{modes: map[string]storagev1.VolumeBindingMode{}}
	for _, sc := range list.Items {
		if sc.VolumeBindingMode != nil {
			b.modes[sc.Name] = *sc.VolumeBindingMode
		}
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			b.defaultName = sc.Name
		}
	}
	return b, nil
}

// waitsForConsumer reports whether a PVC's class binds only once a pod
// uses it.
func (b *bindingModes) waitsForConsumer(pvc *unstructured.Unstructured) bool {
	if b == nil {
		return false
	}
	class, found, _ := unstructured.NestedString(pvc.Object, "spec", "storageClassName")
	if !found {
		class = b.defaultName
	}
	return b.modes[class] == storagev1.VolumeBindingWaitForFirstConsumer
}

// health computes kstatus of a live object, with one exception: a Pending
// PersistentVolumeClaim of a WaitForFirstConsumer class is Current — it
// binds when a pod first uses it, and waiting for that would never end.
func health(obj *unstructured.Unstructured, modes *bindingModes) (status.Status, string) {
	res, err := status.Compute(obj)
	if err != nil {
		return status.UnknownStatus, err.Error()
	}
	if obj.GroupVersionKind().GroupKind() == pvcGK && res.Status == status.InProgressStatus {
		phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
		if (phase == "" || phase == "Pending") && modes.waitsForConsumer(obj) {
			return status.CurrentStatus, "Pending until a pod uses it (WaitForFirstConsumer)"
		}
	}
	return res.Status, res.Message
}

// pvcReader is the kstatus reader of PersistentVolumeClaims for the wait.
type pvcReader struct{ modes *bindingModes }

func (r *pvcReader) Supports(gk schema.GroupKind) bool { return gk == pvcGK }

func (r *pvcReader) ReadStatus(ctx context.Context, cr engine.ClusterReader, id object.ObjMetadata) (*event.ResourceStatus, error) {
	return readByID(ctx, cr, id, r.ReadStatusForObject)
}

func (r *pvcReader) ReadStatusForObject(_ context.Context, _ engine.ClusterReader, obj *unstructured.Unstructured) (*event.ResourceStatus, error) {
	st, msg := health(obj, r.modes)
	return &event.ResourceStatus{Identifier: object.UnstructuredToObjMetadata(obj), Status: st, Resource: obj, Message: msg}, nil
}

// presentReader is the reader of --wait=false: an object that exists is
// Current as soon as the watch sees it, except a CRD, which must be
// Established before its custom resources can be applied; an object being
// deleted counts as gone.
type presentReader struct{}

func (presentReader) Supports(schema.GroupKind) bool { return true }

func (r presentReader) ReadStatus(ctx context.Context, cr engine.ClusterReader, id object.ObjMetadata) (*event.ResourceStatus, error) {
	return readByID(ctx, cr, id, r.ReadStatusForObject)
}

func (presentReader) ReadStatusForObject(_ context.Context, _ engine.ClusterReader, obj *unstructured.Unstructured) (*event.ResourceStatus, error) {
	rs := &event.ResourceStatus{Identifier: object.UnstructuredToObjMetadata(obj), Status: status.CurrentStatus, Resource: obj, Message: "exists (not waited for)"}
	switch {
	case obj.GetDeletionTimestamp() != nil:
		rs.Status, rs.Message = status.NotFoundStatus, "being deleted (not waited for)"
	case obj.GroupVersionKind().GroupKind() == crdGK:
		res, err := status.Compute(obj)
		if err != nil {
			return nil, err
		}
		rs.Status, rs.Message = res.Status, res.Message
	}
	return rs, nil
}

func readByID(ctx context.Context, cr engine.ClusterReader, id object.ObjMetadata,
	read func(context.Context, engine.ClusterReader, *unstructured.Unstructured) (*event.ResourceStatus, error)) (*event.ResourceStatus, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(id.GroupKind.WithVersion(""))
	if err := cr.Get(ctx, types.NamespacedName{Namespace: id.Namespace, Name: id.Name}, obj); err != nil {
		return &event.ResourceStatus{Identifier: id, Status: status.UnknownStatus, Error: err}, nil
	}
	return read(ctx, cr, obj)
}
