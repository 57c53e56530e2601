package ssa

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// TestFastDecidesWithoutMerging: for an object as the server stores it
// after kcloud's apply (its managed fields written by the same field
// manager the server runs), the field sets alone prove the same object
// unchanged, see a changed value, and see a field added or removed,
// with another manager's entry beside kcloud's.
func TestFastDecidesWithoutMerging(t *testing.T) {
	const manager = "kcloud"
	obj := func(t *testing.T, y string) *unstructured.Unstructured {
		t.Helper()
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
			t.Fatal(err)
		}
		return u
	}
	planned := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: apps, labels: {app: web}}\ndata: {color: blue, size: l}\n")
	m := NewMerger(Options{})
	e := m.manager(planned.GroupVersionKind())
	if e.err != nil {
		t.Fatal(e.err)
	}
	empty := &unstructured.Unstructured{}
	empty.SetGroupVersionKind(planned.GroupVersionKind())
	empty.SetName("settings")
	empty.SetNamespace("apps")
	out, err := e.fm.Apply(empty, planned.DeepCopy(), manager, true)
	if err != nil {
		t.Fatal(err)
	}
	live := out.(*unstructured.Unstructured)
	// Another manager's update beside it, as in a cluster.
	live.SetManagedFields(append(live.GetManagedFields(), live.GetManagedFields()[0]))
	entries := live.GetManagedFields()
	entries[1].Manager, entries[1].Operation = "kubectl-edit", "Update"
	live.SetManagedFields(entries)

	for _, tc := range []struct {
		name string
		edit func(u *unstructured.Unstructured)
		want fastVerdict
	}{
		{"the same object", func(*unstructured.Unstructured) {}, provenUnchanged},
		{"a value changed", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "green", "data", "color")
		}, valuesDiffer},
		{"a field added", func(u *unstructured.Unstructured) { _ = unstructured.SetNestedField(u.Object, "x", "data", "new") }, setsDiffer},
		{"a field removed", func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "metadata", "labels") }, setsDiffer},
	} {
		p := planned.DeepCopy()
		tc.edit(p)
		if got := fast(e.tc, live, p, manager); got != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.name, got, tc.want)
		}
	}
	if m.Unchanged(schema.GroupResource{Resource: "configmaps"}, live, planned, manager) != true {
		t.Error("Unchanged: the same object not proven unchanged")
	}
}

// TestHoldsOther: a string, number or boolean planned at a path of
// fields that live holds otherwise (same type) is a sign of change; a
// field live lacks, a value of another type (a form the server may
// normalise) and anything in a list are not.
func TestHoldsOther(t *testing.T) {
	live := map[string]any{
		"data": map[string]any{"color": "blue", "n": int64(1), "on": true, "f": 1.5, "cpu": "500m", "mem": "64Mi", "b64": "YQ=="},
		"spec": map[string]any{
			"ports": []any{map[string]any{"port": int64(80)}},
			"env":   []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "B", "value": "2"}},
			"hosts": []any{"a", "b"},
		},
		"metadata": map[string]any{"name": "x"},
	}
	for _, tc := range []struct {
		name    string
		planned map[string]any
		want    bool
	}{
		{"the same values", map[string]any{"data": map[string]any{"color": "blue", "n": int64(1), "on": true, "f": 1.5}}, false},
		{"a string", map[string]any{"data": map[string]any{"color": "green"}}, true},
		{"an integer", map[string]any{"data": map[string]any{"n": int64(2)}}, true},
		{"a boolean", map[string]any{"data": map[string]any{"on": false}}, true},
		{"a float", map[string]any{"data": map[string]any{"f": 2.5}}, true},
		{"a field live lacks", map[string]any{"data": map[string]any{"new": "x"}, "stringData": map[string]any{"a": "b"}}, false},
		{"another type", map[string]any{"data": map[string]any{"n": "1"}}, false},
		{"in a list item without a name", map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": int64(81)}}}}, false},
		{"in the list item of the same name", map[string]any{"spec": map[string]any{"env": []any{map[string]any{"name": "B", "value": "3"}}}}, true},
		{"the same list item", map[string]any{"spec": map[string]any{"env": []any{map[string]any{"name": "B", "value": "2"}}}}, false},
		{"a list item live lacks", map[string]any{"spec": map[string]any{"env": []any{map[string]any{"name": "C", "value": "2"}}}}, false},
		{"a value live's list lacks", map[string]any{"spec": map[string]any{"hosts": []any{"a", "c"}}}, true},
		{"live's values in another order", map[string]any{"spec": map[string]any{"hosts": []any{"b", "a"}}}, false},
		{"a quantity in another form", map[string]any{"data": map[string]any{"cpu": "0.5", "mem": "67108864"}}, false},
		{"another quantity", map[string]any{"data": map[string]any{"cpu": "1"}}, true},
		{"the same bytes in other base64", map[string]any{"data": map[string]any{"b64": "YR=="}}, false},
		{"a value of another type in a list", map[string]any{"spec": map[string]any{"hosts": []any{int64(1)}}}, false},
		{"a map where live holds a value", map[string]any{"metadata": map[string]any{"name": map[string]any{"x": "y"}}}, false},
	} {
		if got := holdsOther(live, tc.planned); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestStringDataOther: a Secret whose planned stringData sets a key live's
// data holds another value of is a sign of change; the same value, a key
// live lacks, or another kind are not.
func TestStringDataOther(t *testing.T) {
	secret := func(kind string, fields map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: fields}
		u.SetAPIVersion("v1")
		u.SetKind(kind)
		return u
	}
	live := secret("Secret", map[string]any{"data": map[string]any{"token": "c2FtZQ=="}}) // "same"
	for _, tc := range []struct {
		name    string
		planned *unstructured.Unstructured
		want    bool
	}{
		{"another value", secret("Secret", map[string]any{"stringData": map[string]any{"token": "other"}}), true},
		{"the same value", secret("Secret", map[string]any{"stringData": map[string]any{"token": "same"}}), false},
		{"a key live lacks", secret("Secret", map[string]any{"stringData": map[string]any{"new": "x"}}), false},
		{"not a Secret", secret("ConfigMap", map[string]any{"stringData": map[string]any{"token": "other"}}), false},
	} {
		if got := stringDataOther(live, tc.planned); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
