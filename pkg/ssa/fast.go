package ssa

import (
	"bytes"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// stripped are the fields the API server never records as managed
// (k8s.io/apimachinery v0.37.2, pkg/util/managedfields/internal/stripmeta.go:
// https://github.com/kubernetes/apimachinery/blob/v0.37.2/pkg/util/managedfields/internal/stripmeta.go).
var stripped = fieldpath.NewSet(
	fieldpath.MakePathOrDie("apiVersion"),
	fieldpath.MakePathOrDie("kind"),
	fieldpath.MakePathOrDie("metadata"),
	fieldpath.MakePathOrDie("metadata", "name"),
	fieldpath.MakePathOrDie("metadata", "namespace"),
	fieldpath.MakePathOrDie("metadata", "creationTimestamp"),
	fieldpath.MakePathOrDie("metadata", "selfLink"),
	fieldpath.MakePathOrDie("metadata", "uid"),
	fieldpath.MakePathOrDie("metadata", "clusterName"),
	fieldpath.MakePathOrDie("metadata", "generation"),
	fieldpath.MakePathOrDie("metadata", "managedFields"),
	fieldpath.MakePathOrDie("metadata", "resourceVersion"),
)

// maxUpdateManagers is where the server starts merging the entries of
// update managers, on any write (DefaultMaxUpdateManagers in
// https://github.com/kubernetes/apimachinery/blob/v0.37.2/pkg/util/managedfields/internal/fieldmanager.go).
const maxUpdateManagers = 10

// fastVerdict is what the field sets alone tell.
type fastVerdict int

const (
	// unknown: the sets cannot tell; merge.
	unknown fastVerdict = iota
	// provenUnchanged: applying changes nothing.
	provenUnchanged
	// setsDiffer: applying changes the manager's fields, so its entry.
	setsDiffer
	// valuesDiffer: same fields, and live holds other values on some.
	valuesDiffer
)

// fast proves, without merging, that applying planned as manager
// changes nothing: the fields planned sets are exactly those live records
// as manager's last apply (in the same version), and live holds planned's
// values on all of them, list items in the same relative order. Then the
// server's merge sets each field to the value it has and keeps every
// other item where it is (structured-merge-diff's list merge), prunes
// nothing, moves no field between managers, and writes nothing. Where the
// recorded fields differ from planned's, applying changes the manager's
// entry. Anything else is unknown, for the full merge to decide.
func fast(tc managedfields.TypeConverter, live, planned *unstructured.Unstructured, manager string) fastVerdict {
	// The server rewrites kubectl's last-applied annotation on every apply.
	entries := live.GetManagedFields()
	if len(entries) > maxUpdateManagers || live.GetAnnotations()[corev1.LastAppliedConfigAnnotation] != "" {
		return unknown
	}
	var recorded []byte
	for _, e := range entries {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			if e.APIVersion != planned.GetAPIVersion() || e.FieldsV1 == nil {
				return unknown
			}
			recorded = e.FieldsV1.GetRawBytes()
		}
	}
	if recorded == nil {
		return unknown
	}
	pt, err := tc.ObjectToTyped(planned)
	if err != nil {
		return unknown
	}
	// Strictly: a live list with duplicate keys is left to the merge.
	lt, err := tc.ObjectToTyped(live)
	if err != nil {
		return unknown
	}
	set, err := pt.ToFieldSet()
	if err != nil {
		return unknown
	}
	was := &fieldpath.Set{}
	if err := was.FromJSON(bytes.NewReader(recorded)); err != nil {
		return unknown
	}
	if !set.Difference(stripped).Equals(was) {
		return setsDiffer
	}
	// live restricted to planned's fields (its name and type included).
	if value.Equals(pt.AsValue(), lt.ExtractItems(set).AsValue()) {
		return provenUnchanged
	}
	if folded := foldedSecret(planned); folded != nil && holds(tc, lt, folded) {
		// The server stores a Secret's stringData in its data: live already
		// holds what storing planned would.
		return provenUnchanged
	}
	return valuesDiffer
}

// foldedSecret is planned with its stringData folded into data, as the
// server stores it, when planned is a Secret with stringData; else nil.
func foldedSecret(planned *unstructured.Unstructured) *unstructured.Unstructured {
	if planned.GroupVersionKind() != secretGVK {
		return nil
	}
	if sd, _ := planned.Object["stringData"].(map[string]any); len(sd) == 0 {
		return nil
	}
	folded := planned.DeepCopy()
	foldStringData(folded)
	return folded
}

// holds reports whether live holds every value obj sets.
func holds(tc managedfields.TypeConverter, live *typed.TypedValue, obj *unstructured.Unstructured) bool {
	ot, err := tc.ObjectToTyped(obj)
	if err != nil {
		return false
	}
	set, err := ot.ToFieldSet()
	if err != nil {
		return false
	}
	return value.Equals(ot.AsValue(), live.ExtractItems(set).AsValue())
}

// holdsOther reports whether live holds, at a path of fields (maps only:
// lists are not looked into) where planned sets a string, number or
// boolean, another value of the same type: the cheap sign of a change,
// which spares the proofs of an object that changes (a diff sends it to
// the server anyway). Where the server normalises a value (a quantity, a
// Secret's stringData), planned and live differ in form, not value, and
// the server's dry run has the last word; nothing is proven here.
func holdsOther(live, planned map[string]any) bool {
	for k, p := range planned {
		l, ok := live[k]
		if !ok {
			continue
		}
		switch p := p.(type) {
		case map[string]any:
			if l, ok := l.(map[string]any); ok && holdsOther(l, p) {
				return true
			}
		case string, bool, int64, float64:
			if reflect.TypeOf(l) == reflect.TypeOf(p) && l != p {
				return true
			}
		}
	}
	return false
}
