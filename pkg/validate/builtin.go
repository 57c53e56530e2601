package validate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"

	"kcloud.dev/kcloud/pkg/ssa"
)

// builtinType is the server-side-apply schema of one built-in kind.
type builtinType struct {
	schema *smdschema.Schema
	ref    smdschema.TypeRef
}

// lookupBuiltin returns the type of gvk among ssa.Builtins (parsed once
// per process), or false when it is not built in.
func lookupBuiltin(gvk schema.GroupVersionKind) (*builtinType, bool) {
	for _, c := range ssa.Builtins() {
		if !c.Scheme.Recognizes(gvk) {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		tv, err := c.Types.ObjectToTyped(u)
		if err != nil {
			continue
		}
		return &builtinType{schema: tv.Schema(), ref: tv.TypeRef()}, true
	}
	return nil, false
}

// quantityType is the schema's name of resource.Quantity.
const quantityType = "io.k8s.apimachinery.pkg.api.resource.Quantity"

// check walks v along t. Unlike the type converter's own validation it
// reports every unknown field of a mapping, in key order, and names list
// elements by index, so each error can be placed in the source.
func (t *builtinType) check(v map[string]any) []fieldError {
	var errs []fieldError
	t.walk(v, t.ref, nil, &errs)
	return errs
}

func (t *builtinType) walk(v any, ref smdschema.TypeRef, path []string, errs *[]fieldError) {
	if v == nil {
		return
	}
	a, ok := t.schema.Resolve(ref)
	if !ok {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if a.Map == nil {
			*errs = append(*errs, typeError(path, expected(a), v))
			return
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			p := append(slices.Clip(path), k)
			if f, ok := a.Map.FindField(k); ok {
				t.walk(x[k], f.Type, p, errs)
			} else if a.Map.ElementType != (smdschema.TypeRef{}) {
				t.walk(x[k], a.Map.ElementType, p, errs)
			} else {
				*errs = append(*errs, fieldError{path: p, msg: "unknown field"})
			}
		}
	case []any:
		if a.List == nil {
			*errs = append(*errs, typeError(path, expected(a), v))
			return
		}
		for i, el := range x {
			t.walk(el, a.List.ElementType, append(slices.Clip(path), strconv.Itoa(i)), errs)
		}
	default:
		if a.Scalar == nil || !scalarOK(*a.Scalar, v) {
			*errs = append(*errs, typeError(path, expected(a), v))
		} else if q, ok := v.(string); ok && ref.NamedType != nil && *ref.NamedType == quantityType {
			// Every field of type resource.Quantity, wherever it is: the API
			// server cannot decode the object when one does not parse.
			if _, err := resource.ParseQuantity(q); err != nil {
				*errs = append(*errs, fieldError{path: path, msg: fmt.Sprintf("invalid quantity %q: %v", q, err)})
			}
		}
	}
}

func scalarOK(s smdschema.Scalar, v any) bool {
	switch v.(type) {
	case string:
		return s == smdschema.String || s == smdschema.Untyped
	case bool:
		return s == smdschema.Boolean || s == smdschema.Untyped
	case int, int32, int64, float32, float64:
		return s == smdschema.Numeric || s == smdschema.Untyped
	}
	return false
}

// expected describes what an atom accepts.
func expected(a smdschema.Atom) string {
	var kinds []string
	if a.Map != nil {
		kinds = append(kinds, "a mapping")
	}
	if a.List != nil {
		kinds = append(kinds, "a list")
	}
	if a.Scalar != nil {
		switch *a.Scalar {
		case smdschema.String:
			kinds = append(kinds, "a string")
		case smdschema.Numeric:
			kinds = append(kinds, "a number")
		case smdschema.Boolean:
			kinds = append(kinds, "a boolean")
		default:
			kinds = append(kinds, "a scalar")
		}
	}
	switch len(kinds) {
	case 0:
		return "nothing"
	case 1:
		return kinds[0]
	}
	return fmt.Sprintf("%s or %s", kinds[0], kinds[1])
}

func typeError(path []string, want string, got any) fieldError {
	return fieldError{path: path, msg: fmt.Sprintf("wrong type: want %s, got %s", want, describe(got))}
}

// describe names a value's type, and shows it when it is short.
func describe(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		if len(x) > 40 {
			return "a string"
		}
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("the number %v", x)
	}
}
