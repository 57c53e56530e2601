package validate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/runtime/schema"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	openapivalidate "k8s.io/kube-openapi/pkg/validation/validate"
)

// crdType is the compiled schema of one version of a custom resource.
type crdType struct {
	structural *structuralschema.Structural
	validator  *openapivalidate.SchemaValidator
	// source says where the CRD came from, for messages.
	source string
}

// compileCRD compiles every version of crd that carries a schema.
func compileCRD(crd *apiextensionsv1.CustomResourceDefinition, source string) (map[schema.GroupVersionKind]*crdType, error) {
	out := map[schema.GroupVersionKind]*crdType{}
	for _, v := range crd.Spec.Versions {
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		internal := &apiextensions.JSONSchemaProps{}
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
			return nil, fmt.Errorf("CRD %s version %s: %w", crd.Name, v.Name, err)
		}
		s, err := structuralschema.NewStructural(internal)
		if err != nil {
			return nil, fmt.Errorf("CRD %s version %s: schema is not structural: %w", crd.Name, v.Name, err)
		}
		o := s.ToKubeOpenAPI()
		relax(o)
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
		out[gvk] = &crdType{
			structural: s,
			validator:  openapivalidate.NewSchemaValidator(o, nil, "", strfmt.NewFormats()),
			source:     source,
		}
	}
	return out, nil
}

// relax makes the kube-openapi schema accept what the API server accepts:
// int-or-string fields take both (the server converts them so), and formats
// are not checked (the server checks only some, per version).
func relax(s *spec.Schema) {
	if s == nil {
		return
	}
	if v, ok := s.Extensions.GetBool("x-kubernetes-int-or-string"); ok && v {
		// The structural form's anyOf [integer, string] says the same;
		// kept, it would report each mismatch three times.
		s.Type = spec.StringOrArray{"integer", "string"}
		s.AnyOf = nil
	}
	s.Format = ""
	for k, p := range s.Properties {
		relax(&p)
		s.Properties[k] = p
	}
	if s.Items != nil {
		relax(s.Items.Schema)
		for i := range s.Items.Schemas {
			relax(&s.Items.Schemas[i])
		}
	}
	if s.AdditionalProperties != nil {
		relax(s.AdditionalProperties.Schema)
	}
	for _, l := range [][]spec.Schema{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range l {
			relax(&l[i])
		}
	}
	relax(s.Not)
}

// check returns every unknown field (what the API server would prune), and
// every type, required-field, enum and other value violation.
func (t *crdType) check(obj map[string]any) []fieldError {
	var errs []fieldError
	unknownFields(obj, t.structural, nil, true, &errs)
	res := t.validator.Validate(obj)
	for _, e := range res.Errors {
		errs = append(errs, openAPIError(e, obj))
	}
	return errs
}

// unknownFields walks v along s like the API server's pruning does.
// Objects at the root and embedded resources keep apiVersion, kind and
// metadata, which are checked as ObjectMeta, not by the schema.
func unknownFields(v any, s *structuralschema.Structural, path []string, resource bool, errs *[]fieldError) {
	if s == nil {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if s.Type != "" && s.Type != "object" {
			return // a type error, reported by the validator
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			p := append(slices.Clip(path), k)
			if resource && (k == "apiVersion" || k == "kind" || k == "metadata") {
				continue
			}
			if prop, ok := s.Properties[k]; ok {
				unknownFields(x[k], &prop, p, prop.XEmbeddedResource, errs)
				continue
			}
			if ap := s.AdditionalProperties; ap != nil {
				if ap.Structural != nil {
					unknownFields(x[k], ap.Structural, p, ap.Structural.XEmbeddedResource, errs)
				}
				continue
			}
			if !s.XPreserveUnknownFields {
				*errs = append(*errs, fieldError{path: p, msg: "unknown field"})
			}
		}
	case []any:
		for i, el := range x {
			if s.Items != nil {
				unknownFields(el, s.Items, append(slices.Clip(path), strconv.Itoa(i)), s.Items.XEmbeddedResource, errs)
			}
		}
	}
}

// openAPIError turns a kube-openapi validation error into a fieldError.
func openAPIError(e error, obj map[string]any) fieldError {
	ve, ok := e.(*openapierrors.Validation)
	if !ok {
		return fieldError{msg: e.Error()}
	}
	path := splitOpenAPIPath(ve.Name)
	switch ve.Code() {
	case openapierrors.RequiredFailCode:
		return fieldError{path: path, msg: "missing required field"}
	case openapierrors.EnumFailCode:
		var allowed []string
		for _, a := range ve.Values {
			b, _ := json.Marshal(a)
			allowed = append(allowed, string(b))
		}
		b, _ := json.Marshal(ve.Value)
		return fieldError{path: path, msg: fmt.Sprintf("unsupported value %s: use one of %s", b, strings.Join(allowed, ", "))}
	case openapierrors.InvalidTypeCode:
		return fieldError{path: path, msg: fmt.Sprintf("wrong type: want %s, got %s", wantedType(ve), describe(valueAt(obj, path)))}
	}
	msg := strings.Replace(ve.Error(), " in body", "", 1)
	if ve.Name != "" {
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, ve.Name), " ")
	}
	return fieldError{path: path, msg: msg}
}

// splitOpenAPIPath splits spec.items[0].name into its elements.
func splitOpenAPIPath(name string) []string {
	name = strings.TrimPrefix(name, ".")
	if name == "" {
		return nil
	}
	name = strings.ReplaceAll(name, "[", ".")
	name = strings.ReplaceAll(name, "]", "")
	return strings.Split(name, ".")
}

// wantedType is the type a type error asked for: its message ends in
// "must be of type T: ..." or "must be of type T".
func wantedType(ve *openapierrors.Validation) string {
	_, after, ok := strings.Cut(ve.Error(), "must be of type ")
	if !ok {
		return "another type"
	}
	t, _, _ := strings.Cut(after, ":")
	var out []string
	for _, name := range strings.Split(t, ",") {
		article := "a "
		if strings.ContainsRune("aeiou", rune(name[0])) {
			article = "an "
		}
		out = append(out, article+name)
	}
	return strings.Join(out, " or ")
}

// valueAt returns the value at path in v, or nil.
func valueAt(v any, path []string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}
