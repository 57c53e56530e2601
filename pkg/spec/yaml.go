package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/yaml"
)

// Limits on hostile input. The YAML decoder itself caps alias expansion
// (50,000 nodes) and nesting (10,000 levels); these are tighter, and are
// checked on the syntax tree before any CUE evaluation happens.
const (
	// MaxFileSize is the largest spec or manifest file read.
	MaxFileSize = 3 << 20
	// MaxDepth is the deepest nesting of mappings and sequences accepted.
	MaxDepth = 100
)

// document is one YAML document of a file, as CUE syntax.
type document struct {
	expr *ast.StructLit
	pos  Pos
	// apiVersion and kind as written, when they are plain strings.
	apiVersion, kind string
}

// parseYAML splits src into documents and checks each for duplicate keys,
// nesting depth and shape. Empty documents are skipped.
func parseYAML(file string, src []byte) ([]document, Diagnostics) {
	var diags Diagnostics
	var docs []document
	dec := yaml.NewDecoder(file, bytes.NewReader(src))
	for {
		expr, err := dec.Extract()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			diags = append(diags, yamlError(file, err))
			break
		}
		if isNull(expr) {
			continue
		}
		pos := toPos(expr.Pos(), file)
		sl, ok := expr.(*ast.StructLit)
		if !ok {
			diags.errorf(pos, "a document must be a mapping with apiVersion and kind")
			continue
		}
		if deep := checkSyntax(sl, file, &diags); deep.IsValid() {
			diags.errorf(deep, "document nests deeper than %d levels", MaxDepth)
			continue
		}
		doc := document{expr: sl, pos: pos}
		doc.apiVersion, _ = stringField(sl, "apiVersion")
		doc.kind, _ = stringField(sl, "kind")
		docs = append(docs, doc)
	}
	return docs, diags
}

func isNull(e ast.Expr) bool {
	b, ok := e.(*ast.BasicLit)
	return ok && b.Kind == token.NULL
}

var yamlErrLine = regexp.MustCompile(`^(?:[^:]*):(\d+):(?:(\d+):)? ?(.*)$`)

// yamlError turns a decoder error into a diagnostic at its line.
func yamlError(file string, err error) Diagnostic {
	msg := err.Error()
	p := Pos{File: file, Line: 1, Column: 1}
	// The decoder reports "file:line: message" or "file: message".
	if rest, ok := cutPrefix(msg, file); ok {
		if m := yamlErrLine.FindStringSubmatch("x" + rest); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				p.Column, _ = strconv.Atoi(m[2])
			}
			msg = m[3]
		} else if len(rest) > 2 && rest[0] == ':' {
			msg = rest[2:]
		}
	}
	return Diagnostic{Pos: p, Severity: SeverityError, Message: "invalid YAML: " + msg}
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// checkSyntax reports duplicate keys at both places. It returns where the
// nesting first goes deeper than MaxDepth, or an invalid Pos; it does not
// descend further than that.
func checkSyntax(n ast.Expr, file string, diags *Diagnostics) Pos {
	return walkSyntax(n, file, diags, 1)
}

func walkSyntax(n ast.Expr, file string, diags *Diagnostics, depth int) Pos {
	if depth > MaxDepth {
		return toPos(n.Pos(), file)
	}
	switch x := n.(type) {
	case *ast.StructLit:
		seen := make(map[string]token.Pos, len(x.Elts))
		for _, el := range x.Elts {
			f, ok := el.(*ast.Field)
			if !ok {
				continue
			}
			if name, _, err := ast.LabelName(f.Label); err == nil {
				if first, dup := seen[name]; dup {
					a, b := toPos(first, file), toPos(f.Pos(), file)
					diags.errorf(b, "duplicate key %q (first at %s)", name, a)
					diags.errorf(a, "duplicate key %q (again at %s)", name, b)
				} else {
					seen[name] = f.Pos()
				}
			}
			if deep := walkSyntax(f.Value, file, diags, depth+1); deep.IsValid() {
				return deep
			}
		}
	case *ast.ListLit:
		for _, el := range x.Elts {
			if deep := walkSyntax(el, file, diags, depth+1); deep.IsValid() {
				return deep
			}
		}
	}
	return Pos{}
}

// stringField returns the value of a top-level string field of sl.
func stringField(sl *ast.StructLit, name string) (string, bool) {
	for _, el := range sl.Elts {
		f, ok := el.(*ast.Field)
		if !ok {
			continue
		}
		if n, _, err := ast.LabelName(f.Label); err != nil || n != name {
			continue
		}
		if b, ok := f.Value.(*ast.BasicLit); ok && b.Kind == token.STRING {
			if s, err := literal.Unquote(b.Value); err == nil {
				return s, true
			}
		}
		return "", false
	}
	return "", false
}

// toPos converts a CUE token position into a Pos; file is used when the
// position carries none.
func toPos(p token.Pos, file string) Pos {
	if !p.IsValid() {
		return Pos{File: file}
	}
	out := Pos{File: p.Filename(), Line: p.Line(), Column: p.Column()}
	if out.File == "" {
		out.File = file
	}
	return out
}

func fieldLabel(f *ast.Field) string {
	name, _, err := ast.LabelName(f.Label)
	if err != nil {
		return fmt.Sprint(f.Label)
	}
	return name
}
