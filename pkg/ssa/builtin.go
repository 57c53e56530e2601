package ssa

import (
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsac "k8s.io/apiextensions-apiserver/pkg/client/applyconfiguration"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
)

// Builtin is a scheme of built-in kinds with their server-side-apply types.
type Builtin struct {
	Scheme *runtime.Scheme
	Types  managedfields.TypeConverter
}

var builtins = sync.OnceValue(func() []Builtin {
	ext := runtime.NewScheme()
	_ = apiextensionsv1.AddToScheme(ext)
	return []Builtin{
		{Scheme: clientscheme.Scheme, Types: applyconfigurations.NewTypeConverter(clientscheme.Scheme)},
		{Scheme: ext, Types: apiextensionsac.NewTypeConverter(ext)},
	}
})

// Prepare parses the built-in types in the background, for a process
// that will check or merge objects: the parse (tens of milliseconds, once
// per process) then overlaps what the process does first.
func Prepare() { go builtins() }

// Builtins are the built-in kinds and their types: client-go's for the
// core API groups, apiextensions-apiserver's for CustomResourceDefinition.
// Each parses its schema on first use only.
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
