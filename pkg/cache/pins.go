package cache

import (
	"sort"

	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// Pin is one URL manifest of a spec tree and the sha256 it is pinned by.
type Pin struct {
	URL    string
	SHA256 string
	// Pos is the manifest entry in the spec file.
	Pos spec.Pos
}

// Pins returns every URL manifest of t (the components' and the Cluster's
// schema sources), once per URL and sha256, sorted by URL.
func Pins(t *spec.Tree) []Pin {
	seen := map[Pin]bool{}
	var out []Pin
	add := func(ms []spec.Manifest) {
		for _, m := range ms {
			if m.URL == "" {
				continue
			}
			key := Pin{URL: m.URL, SHA256: m.SHA256}
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Pin{URL: m.URL, SHA256: m.SHA256, Pos: m.Pos})
		}
	}
	for _, c := range t.Components {
		add(c.Manifests)
	}
	if t.Cluster != nil {
		add(t.Cluster.Schemas)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].URL != out[j].URL {
			return out[i].URL < out[j].URL
		}
		return out[i].SHA256 < out[j].SHA256
	})
	return out
}

// ChartPin is one chart a spec tree's helm entries name.
type ChartPin struct {
	Ref render.ChartRef
	// Pos is the first helm entry that names it.
	Pos spec.Pos
}

// ChartPins returns the charts of t's helm entries, once each, sorted.
func ChartPins(t *spec.Tree) []ChartPin {
	seen := map[render.ChartRef]bool{}
	var out []ChartPin
	for _, c := range t.Components {
		if h := c.Helm; h != nil {
			ref := render.ChartRef{Repo: h.Repo, Chart: h.Chart, Version: h.Version}
			if !seen[ref] {
				seen[ref] = true
				out = append(out, ChartPin{Ref: ref, Pos: h.Pos})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.String() < out[j].Ref.String() })
	return out
}
