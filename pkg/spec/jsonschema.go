package spec

import (
	"encoding/json"
	"fmt"
	"slices"

	"cuelang.org/go/cue"
	"cuelang.org/go/encoding/jsonschema"
)

// JSONSchema returns a JSON Schema (draft 2020-12) of one spec document — a
// #Cluster or a #Component — generated from the embedded CUE schema by
// CUE's own encoder (cuelang.org/go/encoding/jsonschema.Generate), so the
// CUE files stay the one source of truth. Editors use it through
// yaml-language-server; kcloud vet stays the full check.
func (t *Tables) JSONSchema() ([]byte, error) {
	doc := t.ctx.CompileString("#Cluster | #Component", cue.Scope(t.schema), cue.InferBuiltins(true))
	if err := doc.Err(); err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	expr, err := jsonschema.Generate(doc, nil)
	if err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	b, err := json.Marshal(t.ctx.BuildExpr(expr))
	if err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	var js map[string]any
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	defs, _ := js["$defs"].(map[string]any)
	for name, def := range defs {
		if v := t.def("#" + name); v.Exists() {
			relax(def, v)
		}
	}
	b, err = json.MarshalIndent(js, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	return append(b, '\n'), nil
}

// relax corrects two things CUE v0.17.1's generator gets stricter than CUE
// itself, walking the generated schema js alongside the CUE value v:
//   - a regular field whose default depends on another field (stateful's
//     default depends on layer) is listed as required: CUE fills it in, so
//     a document may leave it out;
//   - an open struct ({...}, Helm values) inside a definition becomes
//     "const": {}: it takes any object.
func relax(js any, v cue.Value) {
	m, ok := js.(map[string]any)
	if !ok {
		return
	}
	if c, ok := m["const"].(map[string]any); ok && len(c) == 0 && v.LookupPath(cue.MakePath(cue.AnyString)).Exists() {
		delete(m, "const")
		m["type"] = "object"
	}
	if req, ok := m["required"].([]any); ok {
		m["required"] = slices.DeleteFunc(req, func(name any) bool {
			s, _ := name.(string)
			return hasDefault(v, []string{s})
		})
		if len(m["required"].([]any)) == 0 {
			delete(m, "required")
		}
	}
	props, _ := m["properties"].(map[string]any)
	for name, p := range props {
		if f := v.LookupPath(cue.MakePath(cue.Str(name).Optional())); f.Exists() {
			relax(p, f)
		}
	}
}
