package ssa

import (
	"bytes"
	"encoding/gob"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsac "k8s.io/apiextensions-apiserver/pkg/client/applyconfiguration"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// TestBuiltinTypesCurrent compares the built-in types kcloud reads from
// types/ with those client-go and apiextensions-apiserver parse from their
// own YAML schemas: after a module update, they must be written again
// (KCLOUD_UPDATE=1 writes them).
func TestBuiltinTypesCurrent(t *testing.T) {
	ext := runtime.NewScheme()
	if err := apiextensionsv1.AddToScheme(ext); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file  string
		types managedfields.TypeConverter
		kind  schema.GroupVersionKind
	}{
		{clientGoTypes, applyconfigurations.NewTypeConverter(clientscheme.Scheme), schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}},
		{apiextensionsTypes, apiextensionsac.NewTypeConverter(ext), apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition")},
	} {
		live := schemaOf(t, c.types, c.kind)
		if os.Getenv("KCLOUD_UPDATE") == "1" {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(live.Types); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c.file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		kept, err := readTypes(c.file)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		// Unexported fields are indexes built on first use.
		if d := cmp.Diff(live.Types, kept, cmpopts.IgnoreUnexported(smdschema.Map{}, smdschema.Schema{})); d != "" {
			t.Errorf("%s differs from the types the pinned module parses (write them again: KCLOUD_UPDATE=1 go test ./pkg/ssa -run TestBuiltinTypesCurrent); -parsed +kept:\n%.2000s", c.file, d)
		}
	}
}

// schemaOf is the whole schema of a type converter, read from the type of
// one of its kinds.
func schemaOf(t *testing.T, tc managedfields.TypeConverter, gvk schema.GroupVersionKind) *smdschema.Schema {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	tv, err := tc.ObjectToTyped(u)
	if err != nil {
		t.Fatal(err)
	}
	return tv.Schema()
}
