package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// errGroup is the CUE errors reported at one path.
type errGroup struct {
	path  []string
	errs  []errors.Error
	disj  bool // a disjunction failed here
	order int
}

// schemaDiagnostics turns the errors of unifying a document with a schema
// definition into one diagnostic per problem, positioned in the user's file.
// CUE reports a failed disjunction once per branch, with schema positions;
// those become one message naming what is allowed.
func schemaDiagnostics(err error, data, unified, def cue.Value, file string) Diagnostics {
	groups := map[string]*errGroup{}
	var keys []string
	for i, e := range errors.Errors(err) {
		path := e.Path()
		if len(path) > 0 && strings.HasPrefix(path[0], "#") {
			path = path[1:]
		}
		k := strings.Join(path, "\x00")
		g, ok := groups[k]
		if !ok {
			g = &errGroup{path: path, order: i}
			groups[k] = g
			keys = append(keys, k)
		}
		if f, _ := e.Msg(); strings.Contains(f, "errors in empty disjunction") {
			g.disj = true
			continue
		}
		g.errs = append(g.errs, e)
	}
	sort.SliceStable(keys, func(i, j int) bool { return groups[keys[i]].order < groups[keys[j]].order })

	var diags Diagnostics
	// CUE leaves out "incomplete" errors (missing required fields) when a
	// value has other errors; find those itself so one run reports all.
	for _, path := range missingFields(def, data, unified, nil) {
		if _, reported := groups[strings.Join(path, "\x00")]; reported {
			continue
		}
		diags.errorf(parentPos(data, path, file), "%s: missing required field", pathString(path))
	}
	for _, k := range keys {
		g := groups[k]
		if len(g.errs) == 0 {
			continue
		}
		val, pos := lookupData(data, g.path, file)
		name := pathString(g.path)
		if g.disj {
			// A mapping that failed a disjunction with a mapping branch is
			// explained by the errors reported inside it.
			if kind := val.Kind(); (kind == cue.StructKind || kind == cue.ListKind) && hasChildren(groups, k) {
				continue
			}
			diags.errorf(pos, "%s: %s is not allowed; %s", name, show(val), alternatives(g.errs, val))
			continue
		}
		seen := map[string]bool{}
		for _, e := range g.errs {
			msg, at := plainMessage(e, val, def, g.path)
			if msg == "" || seen[msg] {
				continue
			}
			seen[msg] = true
			p := pos
			if at {
				p = parentPos(data, g.path, file)
			}
			diags = append(diags, Diagnostic{Pos: p, Severity: SeverityError, Message: name + ": " + msg})
		}
	}
	return diags
}

// missingFields returns the paths of fields the schema requires (no value,
// no default) that the data does not have, following the data's shape and
// reading the required fields from the unified value there.
func missingFields(def, node, unified cue.Value, path []string) [][]string {
	var out [][]string
	switch node.Kind() {
	case cue.StructKind:
		if u := unified.LookupPath(cuePath(path)); u.Err() == nil {
			if it, err := u.Fields(); err == nil {
				for it.Next() {
					sel := it.Selector()
					name := sel.Unquoted()
					if sel.IsDefinition() || node.LookupPath(cue.MakePath(cue.Str(name))).Exists() {
						continue
					}
					v := it.Value()
					if d, ok := v.Default(); ok {
						v = d
					}
					field := append(path[:len(path):len(path)], name)
					if v.Err() == nil && !v.IsConcrete() && !hasDefault(def, field) {
						out = append(out, field)
					}
				}
			}
		}
		it, err := node.Fields()
		if err != nil {
			return out
		}
		for it.Next() {
			out = append(out, missingFields(def, it.Value(), unified, append(path[:len(path):len(path)], it.Selector().Unquoted()))...)
		}
	case cue.ListKind:
		it, err := node.List()
		if err != nil {
			return out
		}
		for i := 0; it.Next(); i++ {
			out = append(out, missingFields(def, it.Value(), unified, append(path[:len(path):len(path)], strconv.Itoa(i)))...)
		}
	}
	return out
}

// cuePath builds a path of fields and list indices.
func cuePath(path []string) cue.Path {
	sels := make([]cue.Selector, len(path))
	for i, p := range path {
		if n, err := strconv.Atoi(p); err == nil {
			sels[i] = cue.Index(n)
		} else {
			sels[i] = cue.Str(p)
		}
	}
	return cue.MakePath(sels...)
}

// hasDefault reports whether the schema marks a default (*x) for the field
// at path: it may only lack a value because another field is wrong.
func hasDefault(def cue.Value, path []string) bool {
	for _, p := range path {
		def = schemaStep(def, p)
	}
	found := false
	if src := def.Source(); src != nil {
		ast.Walk(src, func(n ast.Node) bool {
			if u, ok := n.(*ast.UnaryExpr); ok && u.Op == token.MUL {
				found = true
			}
			return !found
		}, nil)
	}
	return found
}

func hasChildren(groups map[string]*errGroup, key string) bool {
	for k, g := range groups {
		if len(g.errs) > 0 && strings.HasPrefix(k, key+"\x00") {
			return true
		}
	}
	return false
}

// alternatives names what a failed disjunction allows, from its branch
// errors: "use one of L1, L2, L3, L4" when every branch is a value.
func alternatives(errs []errors.Error, val cue.Value) string {
	got := show(val)
	var values, kinds []string
	add := func(list *[]string, s string) {
		for _, x := range *list {
			if x == s {
				return
			}
		}
		*list = append(*list, s)
	}
	for _, e := range errs {
		f, args := e.Msg()
		switch {
		case strings.HasPrefix(f, "conflicting values %s and %s (mismatched types"):
			a, b := fmt.Sprint(args[0]), fmt.Sprint(args[1])
			other := a
			if a == got {
				other = b
			}
			add(&kinds, describeType(other))
		case strings.HasPrefix(f, "conflicting values %s and %s"):
			a, b := fmt.Sprint(args[0]), fmt.Sprint(args[1])
			other := a
			if a == got {
				other = b
			}
			add(&values, unquote(other))
		case strings.HasPrefix(f, "invalid value %v (out of bound %s)"):
			add(&kinds, "a value that "+describePattern(fmt.Sprint(args[1])))
		default:
			add(&kinds, strings.TrimSpace(fmt.Sprintf(f, args...)))
		}
	}
	switch {
	case len(kinds) == 0:
		return "use one of " + strings.Join(values, ", ")
	case len(values) == 0:
		return "want " + strings.Join(kinds, " or ")
	default:
		return "use one of " + strings.Join(values, ", ") + ", or " + strings.Join(kinds, " or ")
	}
}

// plainMessage rewrites one CUE error without its path prefix. at reports
// that the error is about a missing field, best shown at its parent.
func plainMessage(e errors.Error, val, def cue.Value, path []string) (msg string, atParent bool) {
	f, args := e.Msg()
	switch {
	case f == "field not allowed":
		name := path[len(path)-1]
		allowed := allowedFields(def, path[:len(path)-1])
		if len(allowed) == 0 {
			return fmt.Sprintf("unknown field %q", name), false
		}
		return fmt.Sprintf("unknown field %q; allowed fields are %s", name, strings.Join(allowed, ", ")), false
	case strings.HasPrefix(f, "conflicting values %s and %s (mismatched types"):
		got := show(val)
		a, b := fmt.Sprint(args[0]), fmt.Sprint(args[1])
		want := a
		if a == got {
			want = b
		}
		return fmt.Sprintf("%s is %s; want %s", got, kindName(val), describeType(want)), false
	case strings.HasPrefix(f, "conflicting values %s and %s"):
		got := show(val)
		a, b := fmt.Sprint(args[0]), fmt.Sprint(args[1])
		want := a
		if a == got {
			want = b
		}
		return fmt.Sprintf("%s is not allowed; use %s", got, unquote(want)), false
	case strings.HasPrefix(f, "invalid value %v (out of bound %s)"):
		bound := fmt.Sprint(args[1])
		if strings.HasPrefix(bound, "=~") {
			return fmt.Sprintf("%s %s", show(val), describePattern(bound)), false
		}
		return fmt.Sprintf("%s is out of range; want %s", show(val), bound), false
	case strings.HasPrefix(f, "incomplete value"), strings.Contains(f, "non-concrete value"):
		if !val.Exists() && hasDefault(def, path) {
			return "", false // its default depends on a field reported on its own
		}
		if !val.Exists() {
			return "missing required field", true
		}
		return fmt.Sprintf("incomplete value %s", fmt.Sprint(args...)), false
	}
	msg = fmt.Sprintf(f, args...)
	if !val.Exists() {
		return msg, true
	}
	return msg, false
}

// allowedFields lists the fields the schema definition declares at path.
func allowedFields(def cue.Value, path []string) []string {
	v := def
	for _, p := range path {
		v = schemaStep(v, p)
		if !v.Exists() {
			return nil
		}
	}
	var out []string
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	for it.Next() {
		sel := it.Selector()
		if sel.IsDefinition() || sel.PkgPath() != "" {
			continue
		}
		out = append(out, sel.Unquoted())
	}
	return out
}

// schemaStep descends into a schema value: list indices become "any
// element", and optional fields are found too.
func schemaStep(v cue.Value, p string) cue.Value {
	if _, err := strconv.Atoi(p); err == nil && v.IncompleteKind() == cue.ListKind {
		return v.LookupPath(cue.MakePath(cue.AnyIndex))
	}
	if next := v.LookupPath(cue.MakePath(cue.Str(p))); next.Exists() {
		return next
	}
	return v.LookupPath(cue.MakePath(cue.Str(p).Optional()))
}

// step descends one element of an error path into a data value: a number
// is an index where the value is a list, a field name elsewhere.
func step(v cue.Value, p string) cue.Value {
	if v.IncompleteKind() == cue.ListKind {
		if i, err := strconv.Atoi(p); err == nil {
			return v.LookupPath(cue.MakePath(cue.Index(i)))
		}
	}
	return v.LookupPath(cue.MakePath(cue.Str(p)))
}

// lookupData finds the value at path in the user's data and where it is
// written; for a missing value it returns the closest parent's position.
func lookupData(data cue.Value, path []string, file string) (cue.Value, Pos) {
	v := data
	pos := valuePos(data, file)
	for _, p := range path {
		next := step(v, p)
		if !next.Exists() {
			return next, pos
		}
		v = next
		pos = valuePos(v, file)
	}
	return v, pos
}

func parentPos(data cue.Value, path []string, file string) Pos {
	if len(path) == 0 {
		return valuePos(data, file)
	}
	_, p := lookupData(data, path[:len(path)-1], file)
	return p
}

// valuePos is where a value is written: the value of a field, not its label.
func valuePos(v cue.Value, file string) Pos {
	switch n := v.Source().(type) {
	case *ast.Field:
		return toPos(n.Value.Pos(), file)
	case nil:
		return toPos(v.Pos(), file)
	default:
		return toPos(n.Pos(), file)
	}
}

// pathString formats a CUE path as spec.storage[0].name.
func pathString(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if _, err := strconv.Atoi(p); err == nil {
			fmt.Fprintf(&b, "[%s]", p)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return "document"
	}
	return b.String()
}
