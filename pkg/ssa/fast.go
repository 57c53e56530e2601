package ssa

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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

// holdsOther reports whether live holds another value where planned sets
// a string, number or boolean: at a path of fields, in a list item of the
// same "name" (containers, env), or as a list of such values planned holds
// one of and live does not (other). It is the cheap sign of a change,
// which spares the proofs of an object that changes (a diff sends it to
// the server anyway). A value of another type, or in another form of the
// same value, is what the server may normalise, not a sign; and nothing
// is proven here: a sign that misleads costs a dry run, never a wrong
// verdict.
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
		case []any:
			if l, ok := l.([]any); ok && listHoldsOther(l, p) {
				return true
			}
		case string, bool, int64, float64:
			if other(l, p) {
				return true
			}
		}
	}
	return false
}

// listHoldsOther is holdsOther for the items of a list.
func listHoldsOther(live, planned []any) bool {
	for _, p := range planned {
		switch p := p.(type) {
		case map[string]any:
			name, ok := p["name"].(string)
			if !ok {
				continue
			}
			named := func(l any) bool { m, ok := l.(map[string]any); return ok && m["name"] == name }
			// Only a name that one item of each list has: a list keyed by
			// something else may hold a name twice (volumeMounts).
			i := only(live, named)
			if i >= 0 && only(planned, named) >= 0 && holdsOther(live[i].(map[string]any), p) {
				return true
			}
		case string, bool, int64, float64:
			if slices.Contains(live, any(p)) {
				continue
			}
			typed := slices.ContainsFunc(live, func(l any) bool { return reflect.TypeOf(l) == reflect.TypeOf(p) })
			if typed && !slices.ContainsFunc(live, func(l any) bool { return !other(l, p) }) {
				return true
			}
		}
	}
	return false
}

// other reports whether live is another value of planned's type, and not
// one the server writes in another form: a quantity ("0.5" and "500m"),
// base64 of the same bytes.
func other(live, planned any) bool {
	if reflect.TypeOf(live) != reflect.TypeOf(planned) || live == planned {
		return false
	}
	l, ok := live.(string)
	if !ok {
		return true
	}
	p := planned.(string)
	if ql, err := resource.ParseQuantity(l); err == nil {
		if qp, err := resource.ParseQuantity(p); err == nil && ql.Cmp(qp) == 0 {
			return false
		}
	}
	if bl, err := base64.StdEncoding.DecodeString(l); err == nil {
		if bp, err := base64.StdEncoding.DecodeString(p); err == nil && bytes.Equal(bl, bp) {
			return false
		}
	}
	return true
}

// only is the index of the one item of list f holds for; -1 when it holds
// for none or for more than one.
func only(list []any, f func(any) bool) int {
	i := slices.IndexFunc(list, f)
	if i < 0 || slices.ContainsFunc(list[i+1:], f) {
		return -1
	}
	return i
}

// stringDataOther reports whether a Secret's live data holds, for a key
// its planned stringData sets, another value: the server stores
// stringData in data.
func stringDataOther(live, planned *unstructured.Unstructured) bool {
	if planned.GroupVersionKind() != secretGVK {
		return false
	}
	sd, _ := planned.Object["stringData"].(map[string]any)
	data, _ := live.Object["data"].(map[string]any)
	for k, v := range sd {
		v, ok := v.(string)
		enc, has := data[k].(string)
		if ok && has && enc != base64.StdEncoding.EncodeToString([]byte(v)) {
			return true
		}
	}
	return false
}
