package spec

import (
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
)

// The open parts of a document — a Component's inline objects and Helm
// values, a manifest's objects — are plain data the schema does not
// constrain (#Object checks apiVersion, kind and metadata; values are
// {...}). Building them into CUE, unifying and exporting them through JSON
// was most of the cost of loading a large tree, so they are decoded
// straight from their syntax, and CUE sees only what it checks.

// opaque holds the open parts decoded from a Component's syntax.
type opaque struct {
	// objects are spec.objects, element by element.
	objects []map[string]any
	// values are spec.helm.values; set when hasValues.
	values    map[string]any
	hasValues bool
}

// objectKeys are the fields of an inline object #Object constrains.
var objectKeys = map[string]bool{"apiVersion": true, "kind": true, "metadata": true}

// stripComponent returns a copy of a Component document whose inline
// objects keep only the fields the schema checks and whose Helm values are
// empty, with the open parts decoded. The document itself is not changed
// (its syntax is read again for positions and substitutions). ok is false
// when some part does not decode plainly (bytes, floats, duplicate keys):
// the document is then unified whole, as before.
func stripComponent(doc *ast.StructLit) (stripped *ast.StructLit, op opaque, ok bool) {
	specField, spec := structField(doc, "spec")
	if spec == nil {
		return doc, op, false
	}
	newSpec := &ast.StructLit{Lbrace: spec.Lbrace, Rbrace: spec.Rbrace, Elts: make([]ast.Decl, len(spec.Elts))}
	copy(newSpec.Elts, spec.Elts)
	for i, el := range spec.Elts {
		f, isField := el.(*ast.Field)
		if !isField {
			continue
		}
		var v ast.Expr
		switch fieldLabel(f) {
		case "objects":
			v, op.objects, ok = stripObjects(f.Value)
		case "helm":
			v, op.values, op.hasValues, ok = stripValues(f.Value)
		default:
			continue
		}
		if !ok {
			return doc, opaque{}, false
		}
		newSpec.Elts[i] = withValue(f, v)
	}
	out := &ast.StructLit{Lbrace: doc.Lbrace, Rbrace: doc.Rbrace, Elts: make([]ast.Decl, len(doc.Elts))}
	for i, el := range doc.Elts {
		out.Elts[i] = el
		if el == specField {
			out.Elts[i] = withValue(specField, newSpec)
		}
	}
	return out, op, true
}

// stripObjects cuts each element of spec.objects down to the fields
// #Object checks. A list that is not one of mappings is left whole.
func stripObjects(e ast.Expr) (ast.Expr, []map[string]any, bool) {
	list, isList := e.(*ast.ListLit)
	if !isList {
		return e, nil, false
	}
	objs := make([]map[string]any, len(list.Elts))
	out := &ast.ListLit{Lbrack: list.Lbrack, Rbrack: list.Rbrack, Elts: make([]ast.Expr, len(list.Elts))}
	for i, el := range list.Elts {
		sl, isStruct := el.(*ast.StructLit)
		if !isStruct {
			return e, nil, false
		}
		v, ok := toGo(sl)
		if !ok {
			return e, nil, false
		}
		objs[i] = v.(map[string]any)
		kept := &ast.StructLit{Lbrace: sl.Lbrace, Rbrace: sl.Rbrace}
		for _, d := range sl.Elts {
			if f, isField := d.(*ast.Field); isField && objectKeys[fieldLabel(f)] {
				kept.Elts = append(kept.Elts, f)
			}
		}
		out.Elts[i] = kept
	}
	return out, objs, true
}

// stripValues empties spec.helm.values, returning what it held.
func stripValues(e ast.Expr) (ast.Expr, map[string]any, bool, bool) {
	helm, isStruct := e.(*ast.StructLit)
	if !isStruct {
		return e, nil, false, false
	}
	vf, values := structField(helm, "values")
	if vf == nil {
		return e, nil, false, true
	}
	if values == nil {
		return e, nil, false, false
	}
	v, ok := toGo(values)
	if !ok {
		return e, nil, false, false
	}
	out := &ast.StructLit{Lbrace: helm.Lbrace, Rbrace: helm.Rbrace, Elts: make([]ast.Decl, len(helm.Elts))}
	for i, d := range helm.Elts {
		out.Elts[i] = d
		if d == vf {
			out.Elts[i] = withValue(vf, &ast.StructLit{Lbrace: values.Lbrace, Rbrace: values.Rbrace})
		}
	}
	return out, v.(map[string]any), true, true
}

// structField returns the field name of sl and its value when that is a
// mapping (nil otherwise); nil, nil when sl has no such field or has it
// twice.
func structField(sl *ast.StructLit, name string) (*ast.Field, *ast.StructLit) {
	var found *ast.Field
	for _, el := range sl.Elts {
		if f, ok := el.(*ast.Field); ok && fieldLabel(f) == name {
			if found != nil {
				return nil, nil
			}
			found = f
		}
	}
	if found == nil {
		return nil, nil
	}
	v, _ := found.Value.(*ast.StructLit)
	return found, v
}

// withValue is a copy of f with value v.
func withValue(f *ast.Field, v ast.Expr) *ast.Field {
	nf := *f
	nf.Value = v
	return &nf
}

// toGo decodes YAML-derived syntax into the values decodeJSON makes of it
// (maps, lists, strings, bools, nil, int64). It returns false for what it
// does not decode exactly that way: bytes, floats, integers beyond int64,
// duplicate keys, anything that is not plain data.
func toGo(e ast.Expr) (any, bool) {
	switch x := e.(type) {
	case *ast.StructLit:
		m := make(map[string]any, len(x.Elts))
		for _, d := range x.Elts {
			f, ok := d.(*ast.Field)
			if !ok || f.Constraint != token.ILLEGAL {
				return nil, false
			}
			name, _, err := ast.LabelName(f.Label)
			if err != nil {
				return nil, false
			}
			if _, dup := m[name]; dup {
				return nil, false
			}
			v, ok := toGo(f.Value)
			if !ok {
				return nil, false
			}
			m[name] = v
		}
		return m, true
	case *ast.ListLit:
		l := make([]any, 0, len(x.Elts))
		for _, el := range x.Elts {
			v, ok := toGo(el)
			if !ok {
				return nil, false
			}
			l = append(l, v)
		}
		return l, true
	case *ast.BasicLit:
		return basicToGo(x, false)
	case *ast.UnaryExpr:
		if b, ok := x.X.(*ast.BasicLit); ok && x.Op == token.SUB && b.Kind == token.INT {
			return basicToGo(b, true)
		}
	}
	return nil, false
}

// basicToGo decodes a literal; negative negates an integer.
func basicToGo(b *ast.BasicLit, negative bool) (any, bool) {
	switch b.Kind {
	case token.STRING:
		if len(b.Value) == 0 || b.Value[0] != '"' {
			return nil, false // bytes ('…') or a raw string
		}
		s, err := literal.Unquote(b.Value)
		return s, err == nil
	case token.TRUE:
		return true, true
	case token.FALSE:
		return false, true
	case token.NULL:
		return nil, true
	case token.INT:
		var info literal.NumInfo
		if err := literal.ParseNum(b.Value, &info); err != nil || !info.IsInt() || info.Multiplier() != 0 {
			return nil, false
		}
		digits := info.String()
		if negative {
			digits = "-" + digits
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		return n, err == nil
	}
	return nil, false
}
