package printer

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"kcloud.dev/kcloud/pkg/plancheck"
)

// Images writes the images a plan runs: as text, one line per image and
// place it is written (the environments' copies of one object folded into
// one line), with the component that brings it; as JSON, every use. Paths
// are shown relative to workDir when they are inside it.
func Images(w io.Writer, images []plancheck.Image, format, workDir string) error {
	for i := range images {
		images[i].Pos.File = relPath(images[i].Pos.File, workDir)
	}
	if format == "json" {
		if images == nil {
			images = []plancheck.Image{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"images": images})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tCOMPONENT\tWHERE\tFILE")
	type line struct{ image, component, pos string }
	var order []line
	objects := map[line][]string{}
	for _, im := range images {
		l := line{im.Image, im.Component, im.Pos.String()}
		if _, seen := objects[l]; !seen {
			order = append(order, l)
		}
		where := im.Object
		if im.Container != "" {
			where += " (" + im.Container + ")"
		}
		objects[l] = append(objects[l], where)
	}
	for _, l := range order {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.image, l.component, strings.Join(objects[l], ", "), l.pos)
	}
	return tw.Flush()
}

func relPath(p, dir string) string {
	if dir == "" || !filepath.IsAbs(p) {
		return p
	}
	if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}
