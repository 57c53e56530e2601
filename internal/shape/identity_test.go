package shape

import (
	"go/ast"
	"go/token"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// identityTypes are the types that say which kind of object a struct is
// about: with a namespace and a name beside one of them, a struct names an
// object.
var identityTypes = []string{"GroupKind", "GroupVersionKind", "GroupResource", "GroupVersionResource", "ObjMetadata"}

// identityFields are field names that carry a kind or resource as a plain
// value.
var identityFields = []string{"kind", "gk", "gvk", "gr", "gvr", "resource", "group"}

// TestOneIdentityType checks that change.Ref is the one struct type of
// kcloud's packages that names an object — group and kind (or resource),
// namespace and name — so that no second name for an object creeps back
// (diff.Change had its own fields, diff, apply and kube their own keys).
// Wire records, whose every field has a json tag, are the printed shape of
// an object, not its identity, and are left out.
func TestOneIdentityType(t *testing.T) {
	var got []string
	for _, f := range productionFiles(t) {
		ast.Inspect(f.ast, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			if st, ok := ts.Type.(*ast.StructType); ok && namesObject(st) && !wireRecord(st) {
				got = append(got, f.pkgDir+"."+ts.Name.Name)
			}
			return true
		})
	}
	if d := cmp.Diff([]string{"pkg/change.Ref"}, got); d != "" {
		t.Errorf("struct types naming an object (-want +got):\n%s\nuse change.Ref (cli-utils' object.ObjMetadata at calls into cli-utils only)", d)
	}
}

// namesObject reports whether a struct has a namespace, a name and a kind
// or resource among its fields (embedded fields count by their type).
func namesObject(st *ast.StructType) bool {
	var namespace, name, kind bool
	for _, field := range st.Fields.List {
		typ := typeName(field.Type)
		if slices.Contains(identityTypes, typ) {
			kind = true
		}
		for _, id := range field.Names {
			switch n := strings.ToLower(id.Name); {
			case n == "namespace" || n == "ns":
				namespace = true
			case n == "name":
				name = true
			case slices.Contains(identityFields, n):
				kind = true
			}
		}
	}
	return namespace && name && kind
}

// typeName is the last name of a type expression: GroupKind for
// schema.GroupKind or *schema.GroupKind.
func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr: // a generic type: T[K]
		return typeName(t.X)
	case *ast.IndexListExpr:
		return typeName(t.X)
	}
	return ""
}

// wireRecord reports whether every field of a struct has a json tag.
func wireRecord(st *ast.StructType) bool {
	for _, field := range st.Fields.List {
		if field.Tag == nil {
			return false
		}
		tag := reflect.StructTag(strings.Trim(field.Tag.Value, "`"))
		if _, ok := tag.Lookup("json"); !ok {
			return false
		}
	}
	return len(st.Fields.List) > 0
}

// TestOneIdentityTypeSeesWhatItLooksFor keeps the check honest: the shapes
// it was written against are found, and the ones it must let pass are not.
func TestOneIdentityTypeSeesWhatItLooksFor(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"a key by resource", "struct{ Resource schema.GroupResource; Namespace, Name string }", true},
		{"an unexported key", "struct{ stack string; gk schema.GroupKind; namespace, name string }", true},
		{"fields of their own", "struct{ Stack string; GVK schema.GroupVersionKind; Namespace string; Name string }", true},
		{"cli-utils' identifier embedded", "struct{ object.ObjMetadata; Namespace, Name string }", true},
		{"a list key, no name", "struct{ gvr schema.GroupVersionResource; namespace string }", false},
		{"a Ref inside", "struct{ Stack string; Ref change.Ref; Version string }", false},
		{"a JSON record", "struct{ Kind string `json:\"kind\"`; Namespace string `json:\"namespace\"`; Name string `json:\"name\"` }", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := parseStruct(t, tc.src)
			if got := namesObject(st) && !wireRecord(st); got != tc.want {
				t.Errorf("names an object = %v, want %v", got, tc.want)
			}
		})
	}
}

func parseStruct(t *testing.T, src string) *ast.StructType {
	t.Helper()
	f, err := parseSource(token.NewFileSet(), "package p\ntype T "+src)
	if err != nil {
		t.Fatal(err)
	}
	return f.Decls[0].(*ast.GenDecl).Specs[0].(*ast.TypeSpec).Type.(*ast.StructType)
}
