package ssa

import (
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/kube-openapi/pkg/schemaconv"
	"k8s.io/kube-openapi/pkg/validation/spec"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// objectMeta is the OpenAPI name of ObjectMeta, which a custom resource's
// metadata refers to on the server, as in client-go's built-in schema.
const objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

// crdConverter is the merge types of one version of a custom resource,
// built as kube-apiserver builds them for its field manager: the version's
// structural schema, with metadata as ObjectMeta and apiVersion and kind as
// strings at the root and in embedded resources
// (k8s.io/apiextensions-apiserver v0.37.2,
// pkg/controller/openapi/builder/builder.go, buildKubeNative and
// addEmbeddedProperties:
// https://github.com/kubernetes/apiextensions-apiserver/blob/v0.37.2/pkg/controller/openapi/builder/builder.go).
// ObjectMeta's types come from client-go's built-in schema, builtin.
type crdConverter struct {
	parser *typed.Parser
	root   string
}

func newCRDConverter(crd *apiextensionsv1.CustomResourceDefinition, version string, builtin *smdschema.Schema) (*crdConverter, error) {
	var v1 *apiextensionsv1.CustomResourceValidation
	for _, v := range crd.Spec.Versions {
		if v.Name == version {
			v1 = v.Schema
		}
	}
	if v1 == nil || v1.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("CRD %s has no schema for version %s", crd.Name, version)
	}
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v1, internal, nil); err != nil {
		return nil, fmt.Errorf("CRD %s: %w", crd.Name, err)
	}
	s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("CRD %s: schema is not structural: %w", crd.Name, err)
	}
	root := s.Unfold().ToKubeOpenAPI()
	withTypeMeta(root)
	root.SetProperty("metadata", *spec.RefSchema("#/components/schemas/" + objectMeta))
	embedded(root)

	name := fmt.Sprintf("kcloud.crd.%s.%s.%s", crd.Spec.Group, version, crd.Spec.Names.Kind)
	own, err := schemaconv.ToSchemaFromOpenAPI(map[string]*spec.Schema{name: root}, crd.Spec.PreserveUnknownFields)
	if err != nil {
		return nil, fmt.Errorf("CRD %s: %w", crd.Name, err)
	}
	parser := &typed.Parser{}
	parser.Schema.Types = own.Types
	seen := map[string]bool{}
	for _, t := range own.Types {
		seen[t.Name] = true
	}
	for _, t := range builtin.Types {
		if !seen[t.Name] {
			parser.Schema.Types = append(parser.Schema.Types, t)
		}
	}
	return &crdConverter{parser: parser, root: name}, nil
}

func withTypeMeta(s *spec.Schema) {
	s.SetProperty("apiVersion", *spec.StringProperty())
	s.SetProperty("kind", *spec.StringProperty())
}

// embedded gives each x-kubernetes-embedded-resource object its type and
// object metadata, as the server does.
func embedded(s *spec.Schema) {
	if s == nil {
		return
	}
	for k, v := range s.Properties {
		embedded(&v)
		s.Properties[k] = v
	}
	if s.Items != nil {
		embedded(s.Items.Schema)
	}
	if s.AdditionalProperties != nil {
		embedded(s.AdditionalProperties.Schema)
	}
	if yes, ok := s.Extensions.GetBool("x-kubernetes-embedded-resource"); ok && yes {
		withTypeMeta(s)
		s.SetProperty("metadata", *spec.RefSchema("#/components/schemas/" + objectMeta))
	}
}

func (c *crdConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("custom resource as %T", obj)
	}
	return c.parser.Type(c.root).FromUnstructured(u.Object, opts...)
}

func (c *crdConverter) TypedToObject(v *typed.TypedValue) (runtime.Object, error) {
	m, ok := v.AsValue().Unstructured().(map[string]any)
	if !ok {
		return nil, fmt.Errorf("custom resource is not a mapping")
	}
	return &unstructured.Unstructured{Object: m}, nil
}
