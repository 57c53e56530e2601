package kube

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestListItemsDecodesAsTheDynamicClient: each item listItems decodes is
// what the dynamic client's decoder makes of it (apiVersion and kind from
// the list where the item has none, integers as int64, floats, nulls,
// nesting); an item that has its own kind keeps it; the items not wanted
// are only named.
func TestListItemsDecodesAsTheDynamicClient(t *testing.T) {
	body := []byte(`{"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"42"},"items":[
{"metadata":{"name":"a","namespace":"ns","labels":{"x":"1"}},"data":{"k":"v"},"n":7,"f":1.5,"big":9007199254740993,"z":null,"l":[1,"two",{"three":3}]},
{"metadata":{"name":"b","namespace":"ns"},"data":{"k":"w"}},
{"apiVersion":"example.com/v1","kind":"Thing","metadata":{"name":"c"},"spec":{"replicas":3}}
]}`)
	want := map[string]bool{"a": true, "c": true}
	items, passed, err := listItems(bytes.NewReader(body), func(name string) bool { return want[name] })
	if err != nil {
		t.Fatal(err)
	}
	ref, err := runtime.Decode(unstructured.UnstructuredJSONScheme, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range ref.(*unstructured.UnstructuredList).Items {
		name := it.GetName()
		got, ok := items[name]
		switch {
		case want[name] && !ok:
			t.Errorf("%s: not decoded", name)
		case want[name] && !reflect.DeepEqual(got.Object, it.Object):
			t.Errorf("%s: decoded as\n%#v\nthe dynamic client decodes\n%#v", name, got.Object, it.Object)
		case !want[name] && (ok || !passed[name]):
			t.Errorf("%s: decoded %v, passed over %v; want only passed over", name, ok, passed[name])
		}
	}
	if len(items) != 2 || len(passed) != 1 {
		t.Errorf("%d decoded, %d passed over; want 2 and 1", len(items), len(passed))
	}
	for _, cut := range []string{`{"items":[{"metadata":`, `{"items":[`, `{"items":{}}`, `[]`, ``} {
		if _, _, err := listItems(strings.NewReader(cut), func(string) bool { return true }); err == nil {
			t.Errorf("%q: no error", cut)
		}
	}
	// Items after kind and apiVersion, or before them: the same.
	late := []byte(`{"items":[{"metadata":{"name":"a"}}],"kind":"SecretList","apiVersion":"v1"}`)
	items, _, err = listItems(bytes.NewReader(late), func(string) bool { return true })
	if err != nil || items["a"].GetKind() != "Secret" || items["a"].GetAPIVersion() != "v1" {
		t.Errorf("kind after the items: %v, %v", items["a"], err)
	}
}
