package ssa

import (
	"bytes"
	"embed"
	"encoding/gob"
	"fmt"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// Builtin is a scheme of built-in kinds with their server-side-apply types.
type Builtin struct {
	Scheme *runtime.Scheme
	Types  managedfields.TypeConverter
	// Schema is every type Types knows, by name (a CRD's metadata refers
	// to client-go's ObjectMeta in it).
	Schema *smdschema.Schema
}

// The built-in kinds' merge types are those client-go and
// apiextensions-apiserver v0.37.2 build their type converters from: a YAML
// schema each embeds (internal.go in
// https://github.com/kubernetes/client-go/blob/v0.37.2/applyconfigurations/internal/
// and
// https://github.com/kubernetes/apiextensions-apiserver/blob/v0.37.2/pkg/client/applyconfiguration/internal/),
// handed to managedfields.NewSchemeTypeConverter by NewTypeConverter
// (applyconfigurations/utils.go and pkg/client/applyconfiguration/utils.go
// there). Parsing that YAML (430 KB, read twice: once to validate it) took
// 70–80 ms of CPU in every command that checks or merges objects, a
// quarter of a no-change diff of 1,000 objects. types/ holds the parsed
// types in gob, read in about 2 ms; TestBuiltinTypesCurrent fails when they
// differ from what the pinned modules parse, and with KCLOUD_UPDATE=1
// (as golden files are, docs/building.md) it writes them again.
//
//go:embed types/*.gob
var typesFS embed.FS

// The files in types/, one for each schema.
const (
	clientGoTypes      = "types/client-go.gob"
	apiextensionsTypes = "types/apiextensions.gob"
)

func init() {
	// A field's default is YAML data; these are the shapes it takes.
	gob.Register(map[any]any{})
	gob.Register([]any{})
}

var builtins = sync.OnceValue(func() []Builtin {
	ext := runtime.NewScheme()
	_ = apiextensionsv1.AddToScheme(ext)
	return []Builtin{newBuiltin(clientscheme.Scheme, clientGoTypes), newBuiltin(ext, apiextensionsTypes)}
})

// newBuiltin reads the types of scheme's kinds from file. The files are
// part of the binary and checked by tests: one that does not decode is a
// broken build.
func newBuiltin(scheme *runtime.Scheme, file string) Builtin {
	types, err := readTypes(file)
	if err != nil {
		panic(fmt.Sprintf("ssa: built-in types %s: %v", file, err))
	}
	p := &typed.Parser{Schema: smdschema.Schema{Types: types}}
	return Builtin{Scheme: scheme, Types: managedfields.NewSchemeTypeConverter(scheme, p), Schema: &p.Schema}
}

func readTypes(file string) ([]smdschema.TypeDef, error) {
	b, err := typesFS.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var types []smdschema.TypeDef
	err = gob.NewDecoder(bytes.NewReader(b)).Decode(&types)
	return types, err
}

// Builtins are the built-in kinds and their types: client-go's for the
// core API groups, apiextensions-apiserver's for CustomResourceDefinition.
// They are read on first use only.
func Builtins() []Builtin { return builtins() }

// Types names the types the server applies objects of gvk (of resource)
// with: its built-in types, or the CRD as the Merger read it (UID and
// resourceVersion, which change with its schema). What is proven of an
// object holds only while they stay the same (pkg/seal). "" when the
// Merger does not know the kind, or when admission may change an object of
// it as it is written (built-in admission of Pods, a mutating webhook):
// writing it again may then change it again, whatever was proven.
func (m *Merger) Types(resource schema.GroupResource, gvk schema.GroupVersionKind) string {
	if gvk.GroupKind() == podKind || m.opts.Admission.Mutates(resource) != "" {
		return ""
	}
	for _, crd := range m.opts.CRDs {
		if crd.Spec.Group == gvk.Group && crd.Spec.Names.Kind == gvk.Kind {
			return "crd " + string(crd.UID) + "/" + crd.ResourceVersion
		}
	}
	for _, b := range Builtins() {
		if b.Scheme.Recognizes(gvk) {
			return "builtin"
		}
	}
	return ""
}
