package spec

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// Built-in substitutions. They are lowercase; an upper-case ${NAME} comes
// from the process environment.
const (
	VarEnv            = "env"
	VarNamespace      = "namespace"
	VarPrefix         = "prefix"
	VarDomainInternal = "domains.internal"
	VarDomainBase     = "domains.base"
	VarDomainApp      = "domains.app"
	VarDomainAPI      = "domains.api"
)

// builtins maps each built-in to whether it needs an environment (L3/L4).
var builtins = map[string]bool{
	VarEnv:            true,
	VarNamespace:      false,
	VarPrefix:         true,
	VarDomainInternal: false,
	VarDomainBase:     false,
	VarDomainApp:      true,
	VarDomainAPI:      true,
}

var (
	refPattern = regexp.MustCompile(`\$?\$\{([^}]*)\}`)
	envVarName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

// IsEnvVar reports whether a substitution name reads the process
// environment.
func IsEnvVar(name string) bool { return envVarName.MatchString(name) }

// Expand replaces each ${name} in s with lookup(name); $${ writes a literal
// ${. Names lookup does not know are left as written and returned.
func Expand(s string, lookup func(name string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var missing []string
	out := refPattern.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "$$") {
			return m[1:]
		}
		name := m[2 : len(m)-1]
		if v, ok := lookup(name); ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	return out, missing
}

// scanSubstitutions checks every ${…} of component sources and node
// fields: built-ins must exist and fit the layer, and upper-case names are
// recorded (a warning for vet when unset).
func (l *loader) scanSubstitutions() {
	for _, c := range l.tree.Components {
		doc, ok := l.compDoc[c]
		if !ok {
			continue
		}
		layer, _ := l.tabs.Layer(c.Layer)
		check := func(name string, p Pos) {
			l.checkRef(name, p, c.Name, layer.PerEnv())
		}
		spec := fieldValue(doc.expr, "spec")
		src := l.byAbs[mustAbs(c.File)].src
		if helm := fieldValue(spec, "helm"); helm != nil {
			scanStrings(fieldValue(helm, "values"), c.File, src, true, check)
		}
		scanStrings(fieldValue(spec, "objects"), c.File, src, true, check)
		for _, m := range c.Manifests {
			if m.Path == "" {
				continue
			}
			if f := l.byAbs[m.Path]; f != nil {
				for _, d := range f.docs {
					scanStrings(d.expr, f.path, f.src, true, check)
				}
			}
		}
	}
	if cl := l.tree.Cluster; cl != nil {
		spec := fieldValue(l.clDoc[cl].expr, "spec")
		src := l.byAbs[mustAbs(cl.Pos.File)].src
		check := func(name string, p Pos) { l.checkRef(name, p, "", false) }
		scanStrings(fieldValue(spec, "apiEndpoint"), cl.Pos.File, src, false, check)
		if nodes, ok := fieldValue(spec, "nodes").(*ast.ListLit); ok {
			for _, n := range nodes.Elts {
				for _, f := range []string{"host", "user", "name"} {
					scanStrings(fieldValue(n, f), cl.Pos.File, src, false, check)
				}
			}
		}
	}
	sort.SliceStable(l.tree.Vars, func(i, j int) bool { return l.tree.Vars[i].Pos.less(l.tree.Vars[j].Pos) })
}

func (l *loader) checkRef(name string, p Pos, component string, perEnv bool) {
	if IsEnvVar(name) {
		l.tree.Vars = append(l.tree.Vars, VarRef{Name: name, Pos: p, Component: component})
		return
	}
	if IsSecretRef(name) {
		l.checkSecretRef(name, p, component)
		return
	}
	needsEnv, ok := builtins[name]
	switch {
	case !ok || component == "":
		l.diags.errorf(p, "unknown substitution ${%s}; use %s, an upper-case ${NAME} from the environment, or $${ for a literal ${",
			name, builtinList(component != "" && perEnv, component != ""))
	case needsEnv && !perEnv:
		l.diags.errorf(p, "${%s} is only defined for per-environment components (L3, L4)", name)
	}
}

func builtinList(perEnv, component bool) string {
	if !component {
		return "an upper-case ${NAME}"
	}
	var names []string
	for n, needsEnv := range builtins {
		if perEnv || !needsEnv {
			names = append(names, "${"+n+"}")
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// fieldValue returns the value of field name of a struct literal.
func fieldValue(n ast.Node, name string) ast.Expr {
	sl, ok := n.(*ast.StructLit)
	if !ok {
		return nil
	}
	for _, el := range sl.Elts {
		if f, ok := el.(*ast.Field); ok && fieldLabel(f) == name {
			return f.Value
		}
	}
	return nil
}

// scanStrings calls fn for each ${…} in the string literals (and keys)
// under n, positioned where it is written in src, the file's bytes.
func scanStrings(n ast.Node, file string, src []byte, keys bool, fn func(name string, p Pos)) {
	if n == nil {
		return
	}
	report := func(at token.Pos, ref string) {
		fn(ref[2:len(ref)-1], locate(src, file, at, ref))
	}
	ast.Walk(n, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Field:
			if keys {
				if name, _, err := ast.LabelName(x.Label); err == nil {
					for _, m := range refPattern.FindAllString(name, -1) {
						if !strings.HasPrefix(m, "$$") {
							report(x.Pos(), m)
						}
					}
				}
			}
		case *ast.BasicLit:
			if x.Kind != token.STRING || !strings.Contains(x.Value, "${") {
				return false
			}
			for _, m := range refPattern.FindAllString(x.Value, -1) {
				if !strings.HasPrefix(m, "$$") {
					report(x.Pos(), m)
				}
			}
			return false
		}
		return true
	}, nil)
}

// locate finds where ref is written in src at or after the literal that
// holds it; the literal's own position is the fallback.
func locate(src []byte, file string, at token.Pos, ref string) Pos {
	p := toPos(at, file)
	start := at.Offset()
	if src == nil || start < 0 || start > len(src) {
		return p
	}
	i := bytes.Index(src[start:], []byte(ref))
	if i < 0 {
		return p
	}
	off := start + i
	line := bytes.Count(src[:off], []byte("\n")) + 1
	col := off - bytes.LastIndexByte(src[:off], '\n')
	return Pos{File: p.File, Line: line, Column: col}
}

// MissingVars returns, for the Cluster (component "") or the named
// components, each ${NAME} lookup cannot resolve, as diagnostics of
// severity sev.
func (t *Tree) MissingVars(lookup func(string) (string, bool), sev Severity, forComponents bool) Diagnostics {
	var d Diagnostics
	for _, v := range t.Vars {
		if (v.Component != "") != forComponents {
			continue
		}
		if _, ok := lookup(v.Name); ok {
			continue
		}
		where := "the Cluster's nodes"
		if v.Component != "" {
			where = fmt.Sprintf("component %q", v.Component)
		}
		d = append(d, Diagnostic{Pos: v.Pos, Severity: sev,
			Message: fmt.Sprintf("${%s} is not set in the environment (used by %s)", v.Name, where)})
	}
	return d
}
