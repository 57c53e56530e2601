package printer

import (
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
)

// Render writes a render as a YAML stream (each object preceded by a
// comment naming its stack and component) or as a JSON v1 List. With a
// Redactor, Secret values and every value that came from one are masked
// (and the redactor also learns the render's decrypted values); nil prints
// them.
func Render(w io.Writer, r *render.Result, format string, red *redact.Redactor) error {
	if red != nil {
		r = masked(r, red)
	}
	switch format {
	case "json":
		items := []any{}
		for _, o := range r.Objects() {
			items = append(items, o.Object)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	case "yaml", "":
		for _, s := range r.Stacks {
			for _, o := range s.Objects {
				b, err := render.MarshalYAML(o.Object)
				if err != nil {
					return fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
				}
				if _, err := fmt.Fprintf(w, "---\n# stack: %s, component: %s\n%s", s.Name, o.Component, b); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("unknown output format %q: use yaml or json", format)
}

// masked returns a copy of r with every secret value masked.
func masked(r *render.Result, red *redact.Redactor) *render.Result {
	var all []*unstructured.Unstructured
	for _, s := range r.Stacks {
		all = append(all, s.Unstructured()...)
	}
	red.Add(all...)
	red.AddValues(r.Secrets...)
	var stacks []render.Stack
	for _, s := range r.Stacks {
		objs := make([]render.Object, len(s.Objects))
		for i, o := range s.Objects {
			o.Unstructured = o.DeepCopy()
			red.MaskObject(o.Unstructured)
			objs[i] = o
		}
		s.Objects = objs
		stacks = append(stacks, s)
	}
	out := render.NewResult(r.Tables, r.Selection, stacks...)
	out.Cluster = r.Cluster
	return out
}
