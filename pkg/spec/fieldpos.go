package spec

import (
	"strconv"

	"cuelang.org/go/cue/ast"
)

// Syntax is where the fields of one object are written: the object's
// mapping in a spec file or manifest, kept so a check of the rendered
// object can name the line of the offending field.
type Syntax struct {
	node ast.Expr
	file string
}

// FieldPos returns where the field at path is written: each element is a
// mapping key or a list index. When the path leaves what is written (a
// missing field, a value a substitution produced), it returns the deepest
// part of the path that is written, and exact is false. A zero Syntax
// returns a zero Pos.
func (s Syntax) FieldPos(path []string) (p Pos, exact bool) {
	if s.node == nil {
		return Pos{}, false
	}
	n := s.node
	p = toPos(n.Pos(), s.file)
	for i := 0; i < len(path); i++ {
		switch x := n.(type) {
		case *ast.StructLit:
			f, used := findField(x, path[i:])
			if f == nil {
				return p, false
			}
			i += used - 1
			p, n = toPos(f.Pos(), s.file), f.Value
		case *ast.ListLit:
			idx, err := strconv.Atoi(path[i])
			if err != nil || idx < 0 || idx >= len(x.Elts) {
				return p, false
			}
			n = x.Elts[idx]
			p = toPos(n.Pos(), s.file)
		default:
			return p, false
		}
	}
	return p, true
}

// findField finds the field named by path's first element in sl. Error
// paths join keys with dots, so a key that itself holds dots (an
// annotation) may span several elements; used says how many it took.
func findField(sl *ast.StructLit, path []string) (f *ast.Field, used int) {
	key := ""
	for n := 1; n <= len(path); n++ {
		if n == 1 {
			key = path[0]
		} else {
			key += "." + path[n-1]
		}
		for _, el := range sl.Elts {
			if fl, ok := el.(*ast.Field); ok && fieldLabel(fl) == key {
				return fl, n
			}
		}
	}
	return nil, 0
}

// listElem returns the i-th element of the list at key in sl, or nil.
func listElem(sl *ast.StructLit, key string, i int) ast.Expr {
	l, ok := fieldValue(sl, key).(*ast.ListLit)
	if !ok || i < 0 || i >= len(l.Elts) {
		return nil
	}
	return l.Elts[i]
}
