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
	if at, why := precheck(file, src); at.IsValid() {
		diags.errorf(at, "%s", why)
		return nil, diags
	}
	dec := yaml.NewDecoder(file, bytes.NewReader(bareCRs(src)))
	budget := newSyntaxBudget()
	for {
		expr, err := extract(dec)
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
		if pos.Line == 0 {
			// A bare scalar document can come without a position.
			pos.Line, pos.Column = 1, 1
		}
		sl, ok := expr.(*ast.StructLit)
		if !ok {
			diags.errorf(pos, "a document must be a mapping with apiVersion and kind")
			continue
		}
		if at, why := checkSyntax(sl, file, &diags, budget); at.IsValid() {
			diags.errorf(at, "%s", why)
			break // the budget is the file's: later documents would fail too
		}
		doc := document{expr: sl, pos: pos}
		doc.apiVersion, _ = stringField(sl, "apiVersion")
		doc.kind, _ = stringField(sl, "kind")
		docs = append(docs, doc)
	}
	return docs, diags
}

// bareCRs is src with each "\r" not followed by "\n" (an old Mac line
// end) made "\n". The YAML scanner breaks lines at both; CUE's decoder
// finds lines by "\n" only, and panicked on a bare "\r" (cuelang.org/go
// v0.17.1 internal/encoding/yaml, yamlOffset:
// https://github.com/cue-lang/cue/blob/v0.17.1/internal/encoding/yaml/decode.go).
// One byte for one keeps every offset, and means the same to YAML, which
// reads any line break in a scalar as "\n".
func bareCRs(src []byte) []byte {
	if !bytes.Contains(src, []byte("\r")) {
		return src
	}
	out := bytes.Clone(src)
	for i, b := range out {
		if b == '\r' && (i+1 == len(out) || out[i+1] != '\n') {
			out[i] = '\n'
		}
	}
	return out
}

// extract is dec.Extract with a panic of the decoder turned into an error
// (line breaks it does not count, such as U+2028, are still possible): a
// spec file is input, never a crash.
func extract(dec *yaml.Decoder) (expr ast.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			expr, err = nil, fmt.Errorf("the YAML decoder failed on this file (%v); a line break other than \\n, \\r\\n or \\r (U+0085, U+2028, U+2029) does this", r)
		}
	}()
	return dec.Extract()
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

// checkSyntax reports duplicate keys at both places and bounds the work
// the document may cost later: nesting, the number of nodes, the elements
// of one list or mapping (CUE's evaluation is quadratic in those), and the
// bytes of scalars once aliases are expanded. It returns where the first
// limit is crossed, with what, or an invalid Pos; it stops walking there.
// budget is shared by the documents of one file.
func checkSyntax(n ast.Expr, file string, diags *Diagnostics, budget *syntaxBudget) (Pos, string) {
	w := &syntaxWalk{file: file, diags: diags, budget: budget}
	p := w.walk(n, 1)
	return p, w.why
}

// syntaxBudget is what the documents of one file may still use.
type syntaxBudget struct {
	nodes, bytes int
}

func newSyntaxBudget() *syntaxBudget {
	return &syntaxBudget{nodes: MaxNodes, bytes: MaxExpandedSize}
}

type syntaxWalk struct {
	file   string
	diags  *Diagnostics
	budget *syntaxBudget
	why    string
}

func (w *syntaxWalk) stop(n ast.Node, why string, args ...any) Pos {
	w.why = fmt.Sprintf(why, args...)
	return toPos(n.Pos(), w.file)
}

func (w *syntaxWalk) walk(n ast.Expr, depth int) Pos {
	if depth > MaxDepth {
		return w.stop(n, "document nests deeper than %d levels", MaxDepth)
	}
	if w.budget.nodes--; w.budget.nodes < 0 {
		return w.stop(n, "file has more than %d YAML nodes (aliases counted expanded); split it", MaxNodes)
	}
	switch x := n.(type) {
	case *ast.BasicLit:
		if w.budget.bytes -= len(x.Value); w.budget.bytes < 0 {
			return w.stop(n, "file expands to more than %d MiB of values (aliases counted expanded)", MaxExpandedSize>>20)
		}
	case *ast.StructLit:
		if len(x.Elts) > MaxElements {
			return w.stop(n, "mapping has %d keys; at most %d are accepted", len(x.Elts), MaxElements)
		}
		seen := make(map[string]token.Pos, len(x.Elts))
		kept := x.Elts[:0:0]
		for _, el := range x.Elts {
			f, ok := el.(*ast.Field)
			if !ok {
				kept = append(kept, el)
				continue
			}
			if name, _, err := ast.LabelName(f.Label); err == nil {
				if w.budget.bytes -= len(name); w.budget.bytes < 0 {
					return w.stop(f, "file expands to more than %d MiB of values (aliases counted expanded)", MaxExpandedSize>>20)
				}
				if first, dup := seen[name]; dup {
					// One error per duplicate, where it is repeated; the
					// repeat is dropped so that the document is still
					// checked (CUE would only say "conflicting values").
					w.diags.errorf(toPos(f.Pos(), w.file), "duplicate key %q (first at %s)", name, toPos(first, w.file))
					continue
				}
				seen[name] = f.Pos()
			}
			kept = append(kept, el)
			if deep := w.walk(f.Value, depth+1); deep.IsValid() {
				return deep
			}
		}
		x.Elts = kept
	case *ast.ListLit:
		if len(x.Elts) > MaxElements {
			return w.stop(n, "list has %d items; at most %d are accepted", len(x.Elts), MaxElements)
		}
		for _, el := range x.Elts {
			if deep := w.walk(el, depth+1); deep.IsValid() {
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
