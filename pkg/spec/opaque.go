package spec

import (
	"encoding/json"
	"strconv"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
	kjson "k8s.io/apimachinery/pkg/util/json"
)

// The open parts of a document — a Component's inline objects and Helm
// values, a manifest's objects — are plain data the schema does not
// constrain (#Object checks apiVersion, kind and metadata; values are
// {...}). Building them into CUE, unifying and exporting them through JSON
// was most of the cost of loading a large tree, so they are decoded
// straight from their syntax, and CUE sees only what it checks.

// objectKeys are the fields of an inline object #Object constrains.
var objectKeys = map[string]bool{"apiVersion": true, "kind": true, "metadata": true}

// stripComponent returns a copy of a Component document whose inline
// objects keep only the fields the schema checks and whose Helm values are
// empty: what CUE needs to validate it. The document itself is not changed
// (its syntax is read again for positions and substitutions). A part of
// unexpected shape is left whole, for the schema to report.
func stripComponent(doc *ast.StructLit) *ast.StructLit {
	specField, spec := structField(doc, "spec")
	if spec == nil {
		return doc
	}
	newSpec := &ast.StructLit{Lbrace: spec.Lbrace, Rbrace: spec.Rbrace, Elts: make([]ast.Decl, len(spec.Elts))}
	for i, el := range spec.Elts {
		newSpec.Elts[i] = el
		f, isField := el.(*ast.Field)
		if !isField {
			continue
		}
		switch fieldLabel(f) {
		case "objects":
			newSpec.Elts[i] = withValue(f, stripObjects(f.Value))
		case "helm":
			newSpec.Elts[i] = withValue(f, stripValues(f.Value))
		}
	}
	out := &ast.StructLit{Lbrace: doc.Lbrace, Rbrace: doc.Rbrace, Elts: make([]ast.Decl, len(doc.Elts))}
	for i, el := range doc.Elts {
		out.Elts[i] = el
		if el == specField {
			out.Elts[i] = withValue(specField, newSpec)
		}
	}
	return out
}

// stripObjects cuts each mapping of spec.objects down to the fields
// #Object checks.
func stripObjects(e ast.Expr) ast.Expr {
	list, isList := e.(*ast.ListLit)
	if !isList {
		return e
	}
	out := &ast.ListLit{Lbrack: list.Lbrack, Rbrack: list.Rbrack, Elts: make([]ast.Expr, len(list.Elts))}
	for i, el := range list.Elts {
		out.Elts[i] = el
		sl, isStruct := el.(*ast.StructLit)
		if !isStruct {
			continue
		}
		kept := &ast.StructLit{Lbrace: sl.Lbrace, Rbrace: sl.Rbrace}
		for _, d := range sl.Elts {
			if f, isField := d.(*ast.Field); isField && objectKeys[fieldLabel(f)] {
				kept.Elts = append(kept.Elts, f)
			}
		}
		out.Elts[i] = kept
	}
	return out
}

// stripValues empties spec.helm.values when it is a mapping.
func stripValues(e ast.Expr) ast.Expr {
	helm, isStruct := e.(*ast.StructLit)
	if !isStruct {
		return e
	}
	vf, values := structField(helm, "values")
	if values == nil {
		return e
	}
	out := &ast.StructLit{Lbrace: helm.Lbrace, Rbrace: helm.Rbrace, Elts: make([]ast.Decl, len(helm.Elts))}
	for i, d := range helm.Elts {
		out.Elts[i] = d
		if d == vf {
			out.Elts[i] = withValue(vf, &ast.StructLit{Lbrace: values.Lbrace, Rbrace: values.Rbrace})
		}
	}
	return out
}

// decodeComponentData decodes a validated Component into raw: from its
// syntax (whole, when plain), with the one default the schema adds
// (spec.stateful) read from the unified value u; otherwise through CUE.
// Both ways go through JSON, so that numbers decode alike.
func decodeComponentData(u cue.Value, whole any, plain bool, raw *rawComponent) error {
	if !plain {
		return decodeJSON(u, raw)
	}
	b, err := json.Marshal(whole)
	if err != nil {
		return err
	}
	if err := kjson.Unmarshal(b, raw); err != nil {
		return err
	}
	raw.Spec.Stateful, err = u.LookupPath(cue.MakePath(cue.Str("spec"), cue.Str("stateful"))).Bool()
	return err
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
