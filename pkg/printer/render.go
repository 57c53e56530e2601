package printer

import (
	"encoding/json"
	"fmt"
	"io"

	"kcloud.dev/kcloud/pkg/render"
)

// Render writes a render as a YAML stream (each object preceded by a
// comment naming its stack and component) or as a JSON v1 List.
func Render(w io.Writer, r *render.Result, format string) error {
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
