package ssa

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
)

// Verdict is what the local merge decided.
type Verdict int

const (
	// Doubt: the merge could not decide; ask the server (dry run).
	Doubt Verdict = iota
	// Unchanged: applying would change neither the object nor who owns
	// which of its fields.
	Unchanged
	// Changed: applying would change the object or its field ownership.
	Changed
)

func (v Verdict) String() string {
	switch v {
	case Unchanged:
		return "unchanged"
	case Changed:
		return "changed"
	}
	return "doubt"
}

// Result is the local merge of one object.
type Result struct {
	Verdict Verdict
	// Merged is the object as the server would store it, without the
	// server's defaulting and admission; set for Changed.
	Merged *unstructured.Unstructured
	// Reason says why the merge is in doubt; for people.
	Reason string
}

// Options tell a Merger what the cluster has besides built-in kinds.
type Options struct {
	// CRDs are the cluster's: custom resources are merged with the types
	// of their schemas. A kind neither built in nor defined here (an
	// aggregated API, say) is always in doubt.
	CRDs []*apiextensionsv1.CustomResourceDefinition
	// Admission says which objects admission may mutate on update; nil:
	// none (no mutating webhooks or policies).
	Admission *Admission
}

// Merger decides on the client what a server-side apply would do, with the
// API server's own field manager (k8s.io/apimachinery's managedfields, the
// code kube-apiserver runs) over structured-merge-diff types: client-go's
// for built-in kinds, the CRD's schema for custom resources. Safe for
// concurrent use.
type Merger struct {
	opts Options

	mu       sync.Mutex
	managers map[schema.GroupVersionKind]managerEntry
}

type managerEntry struct {
	fm *managedfields.FieldManager
	tc managedfields.TypeConverter
	// scheme has the kind's Go type (built-in kinds): the server stores
	// objects through it.
	scheme *runtime.Scheme
	err    error
}

// NewMerger returns a Merger for a cluster described by opts.
func NewMerger(opts Options) *Merger {
	return &Merger{opts: opts, managers: map[schema.GroupVersionKind]managerEntry{}}
}

// podKind is mutated on update by built-in admission (LimitRanger) even
// when the merge changes nothing.
var podKind = schema.GroupKind{Kind: "Pod"}

// Apply merges planned into live (an object of resource) as a
// server-side apply by manager with conflicts forced would, and compares the outcome with live.
//
// Unchanged is only said when the merged object, after the server's
// normalisation (a Secret's stringData folded into data), equals live and
// every manager's field set is what live records. The second condition
// makes the verdict exact even with deduced types: a set computed with
// types other than the server's is encoded differently (a keyed list item
// against a whole list), so it never equals the recorded one by chance.
// Defaulting does not matter for an object whose merge changes nothing
// (live is already defaulted); mutating admission does, and is in doubt.
func (m *Merger) Apply(resource schema.GroupResource, live, planned *unstructured.Unstructured, manager string) Result {
	e, applied, why := m.prepare(resource, planned)
	if why != "" {
		return Result{Reason: why}
	}
	if fast(e.tc, live, applied, manager) == provenUnchanged {
		return Result{Verdict: Unchanged}
	}
	return e.merge(live, applied, manager)
}

// Unchanged reports whether applying planned certainly changes nothing,
// as Apply would say, merging only where the field sets cannot tell: for
// a diff that sends what is not unchanged to the server anyway.
func (m *Merger) Unchanged(resource schema.GroupResource, live, planned *unstructured.Unstructured, manager string) bool {
	if holdsOther(live.Object, planned.Object) || stringDataOther(live, planned) {
		return false
	}
	e, applied, why := m.prepare(resource, planned)
	if why != "" {
		return false
	}
	switch fast(e.tc, live, applied, manager) {
	case provenUnchanged:
		return true
	case setsDiffer:
		return false // the manager's entry changes
	case valuesDiffer:
		// Only the server's normalisation could make them equal: a
		// planned object already in normal form changes live.
		if e.normal(applied) {
			return false
		}
	}
	return e.merge(live, applied, manager).Verdict == Unchanged
}

// prepare checks what the merge cannot decide and returns the kind's
// field manager and planned as the server decodes it (from JSON: a float
// 1.0 arrives as the integer 1), or why the merge is in doubt.
func (m *Merger) prepare(resource schema.GroupResource, planned *unstructured.Unstructured) (managerEntry, *unstructured.Unstructured, string) {
	gvk := planned.GroupVersionKind()
	if gvk.GroupKind() == podKind {
		return managerEntry{}, nil, "built-in admission mutates Pods on update"
	}
	if why := m.opts.Admission.Mutates(resource); why != "" {
		return managerEntry{}, nil, why
	}
	e := m.manager(gvk)
	if e.err != nil {
		return e, nil, e.err.Error()
	}
	applied, err := roundTrip(planned)
	if err != nil {
		return e, nil, err.Error()
	}
	return e, applied, ""
}

// merge runs the field manager and compares its outcome with live.
func (e managerEntry) merge(live, applied *unstructured.Unstructured, manager string) Result {
	out, err := e.fm.Apply(live.DeepCopy(), applied, manager, true)
	if err != nil {
		return Result{Reason: "merge: " + err.Error()}
	}
	merged, ok := out.(*unstructured.Unstructured)
	if !ok {
		return Result{Reason: fmt.Sprintf("merge returned %T", out)}
	}
	r := Result{Verdict: Changed, Merged: merged}
	if !sameManagers(live.GetManagedFields(), merged.GetManagedFields()) {
		return r
	}
	if sameContent(live, merged) {
		r.Verdict = Unchanged
		return r
	}
	// What the server does before storing may make them equal.
	if err := e.normalize(merged); err != nil {
		return Result{Reason: "normalise: " + err.Error()}
	}
	if sameContent(live, merged) {
		r.Verdict = Unchanged
	}
	return r
}

// normal reports whether the server's normalisation keeps every value obj
// sets (custom resources: the server does not normalise them). It may add
// what obj leaves out (empty structs): the merge puts obj's values over
// live's, and only a value normalisation changes could end up equal to
// live's where obj's differs.
func (e managerEntry) normal(obj *unstructured.Unstructured) bool {
	if e.scheme == nil {
		return true
	}
	n := obj.DeepCopy()
	if err := e.normalize(n); err != nil {
		return false
	}
	return kept(obj.Object, n.Object)
}

// kept reports whether every value a sets is in b, unchanged.
func kept(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || (len(x) == 0) != (len(y) == 0) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !kept(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !kept(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return equality.Semantic.DeepEqual(a, b)
}

// normalize does to a merged object what the server does before storing
// it: a built-in kind goes through its Go type (empty optional fields
// dropped, quantities in canonical form), and a v1 Secret's stringData
// overwrites data and is not stored (kubernetes v1.37.2,
// Convert_v1_Secret_To_core_Secret in
// https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/apis/core/v1/conversion.go).
func (e managerEntry) normalize(obj *unstructured.Unstructured) error {
	if e.scheme == nil {
		return nil
	}
	gvk := obj.GroupVersionKind()
	typed, err := e.scheme.New(gvk)
	if err != nil {
		return err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, typed); err != nil {
		return err
	}
	if obj.Object, err = runtime.DefaultUnstructuredConverter.ToUnstructured(typed); err != nil {
		return err
	}
	if gvk == secretGVK {
		foldStringData(obj)
	}
	return nil
}

// manager returns the field manager of gvk, built once.
func (m *Merger) manager(gvk schema.GroupVersionKind) managerEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.managers[gvk]; ok {
		return e
	}
	e := m.newManager(gvk)
	m.managers[gvk] = e
	return e
}

func (m *Merger) newManager(gvk schema.GroupVersionKind) managerEntry {
	conv := sameVersion{}
	for _, b := range Builtins() {
		if b.Scheme.Recognizes(gvk) {
			fm, err := managedfields.NewDefaultFieldManager(b.Types, conv, noDefaults{}, conv, gvk, gvk.GroupVersion(), "", nil)
			return managerEntry{fm: fm, tc: b.Types, scheme: b.Scheme, err: err}
		}
	}
	i := slices.IndexFunc(m.opts.CRDs, func(c *apiextensionsv1.CustomResourceDefinition) bool {
		return c.Spec.Group == gvk.Group && c.Spec.Names.Kind == gvk.Kind
	})
	if i < 0 {
		return managerEntry{err: fmt.Errorf("kind %s is neither built in nor defined by a CRD of the cluster: no merge types", gvk.GroupKind())}
	}
	tc, err := newCRDConverter(m.opts.CRDs[i], gvk.Version, Builtins()[0].Schema)
	if err != nil {
		return managerEntry{err: err}
	}
	fm, err := managedfields.NewDefaultCRDFieldManager(tc, conv, noDefaults{}, conv, gvk, gvk.GroupVersion(), "", nil)
	return managerEntry{fm: fm, tc: tc, err: err}
}

// roundTrip returns obj as the server decodes it from JSON.
func roundTrip(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return out, nil
}

// foldStringData writes a Secret's stringData over its data.
func foldStringData(obj *unstructured.Unstructured) {
	sd, ok := obj.Object["stringData"].(map[string]any)
	delete(obj.Object, "stringData")
	if !ok || len(sd) == 0 {
		return
	}
	data, _ := obj.Object["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		s, _ := v.(string)
		data[k] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	obj.Object["data"] = data
}

var secretGVK = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}

// sameContent compares two objects without their managed fields.
func sameContent(a, b *unstructured.Unstructured) bool {
	return equality.Semantic.DeepEqual(withoutManagedFields(a), withoutManagedFields(b))
}

// withoutManagedFields is obj's content without metadata.managedFields,
// copying only the two maps it changes (live objects are shared).
func withoutManagedFields(obj *unstructured.Unstructured) map[string]any {
	out := maps.Clone(obj.Object)
	if md, ok := out["metadata"].(map[string]any); ok {
		md = maps.Clone(md)
		delete(md, "managedFields")
		out["metadata"] = md
	}
	return out
}

// sameManagers reports whether two managedFields lists record the same
// field sets for the same managers; times are not compared (the server
// stamps a manager's entry when its apply changed the object).
func sameManagers(a, b []metav1.ManagedFieldsEntry) bool {
	if len(a) != len(b) {
		return false
	}
	type key struct{ manager, op, sub string }
	index := make(map[key]metav1.ManagedFieldsEntry, len(a))
	for _, e := range a {
		index[key{e.Manager, string(e.Operation), e.Subresource}] = e
	}
	for _, e := range b {
		o, ok := index[key{e.Manager, string(e.Operation), e.Subresource}]
		if !ok || o.APIVersion != e.APIVersion || o.FieldsType != e.FieldsType || !sameFields(o.FieldsV1, e.FieldsV1) {
			return false
		}
	}
	return true
}

func sameFields(a, b *metav1.FieldsV1) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.GetRawBytes(), b.GetRawBytes())
}
