package plancheck

import (
	"fmt"
	"slices"
	"sort"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// Image is one image the plan runs, where it is written and who brings it.
type Image struct {
	// Image is the reference as written (ghcr.io/x/y:v1@sha256:…).
	Image string `json:"image"`
	// Repository, Tag and Digest are its parts, the repository
	// normalised (docker.io/library/… for a bare name); empty when the
	// reference does not parse.
	Repository string `json:"repository,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
	// Component brings it; Object and Container say where it runs.
	Component string   `json:"component"`
	Object    string   `json:"object"`
	Container string   `json:"container,omitempty"`
	Pos       spec.Pos `json:"pos"`
	// path is the field the image is at.
	path []string
}

// Images returns every image the whole plan runs (every stack, selected
// or not): the containers of every pod
// template (after patches, chart objects included once charts render)
// and the Kubero UI the Kubero operator runs for a Kubero resource, sorted
// by image, component and place.
func Images(res *render.Result) []Image {
	if res == nil {
		return nil
	}
	var out []Image
	for _, o := range res.WholePlan() {
		gk := o.GroupVersionKind().GroupKind()
		if spec, ok := podSpecPaths[gk]; ok {
			for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
				cs, _, _ := unstructured.NestedSlice(o.Object, join(spec, list)...)
				for i, c := range cs {
					m, _ := c.(map[string]any)
					img, _ := m["image"].(string)
					name, _ := m["name"].(string)
					out = append(out, newImage(o, img, name, join(spec, list, fmt.Sprint(i), "image")))
				}
			}
		}
		if gk == kuberoKind {
			out = append(out, kuberoImage(o))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Image != b.Image {
			return a.Image < b.Image
		}
		if a.Component != b.Component {
			return a.Component < b.Component
		}
		return a.Object < b.Object
	})
	return out
}

func newImage(o render.Object, img, container string, path []string) Image {
	im := Image{Image: img, Component: o.Component, Object: kindName(o), Container: container, Pos: at(o, path...), path: path}
	if named, err := reference.ParseNormalizedNamed(img); err == nil {
		im.Repository = named.Name()
		if t, ok := named.(reference.Tagged); ok {
			im.Tag = t.Tag()
		}
		if d, ok := named.(reference.Digested); ok {
			im.Digest = d.Digest().String()
		}
	}
	return im
}

// The Kubero operator's chart runs image.repository:image.tag, with these
// defaults: https://github.com/kubero-dev/kubero-operator/blob/v0.2.1/helm-charts/kubero/values.yaml
// and templates/deployment.yaml (the tag falls back to the chart's
// appVersion only when the value is empty, and the default is not).
const (
	kuberoDefaultRepository = "ghcr.io/kubero-dev/kubero/kubero"
	kuberoDefaultTag        = "v1.11"
)

func kuberoImage(o render.Object) Image {
	repo, _, _ := unstructured.NestedString(o.Object, "spec", "image", "repository")
	tag, _, _ := unstructured.NestedString(o.Object, "spec", "image", "tag")
	path := []string{"spec", "image", "tag"}
	if repo == "" {
		repo = kuberoDefaultRepository
	}
	if tag == "" {
		tag, path = kuberoDefaultTag, []string{"spec", "image"}
	}
	return newImage(o, repo+":"+tag, "kubero", path)
}

// checkImages applies the image rules: a reference that does not parse,
// with no tag, or with the tag latest is an error; a tag without a digest
// is a warning (an error when strict) unless the component lists the image
// under unpinnedImages; an unpinnedImages entry no image of its component
// uses is an error.
func checkImages(images []Image, t *spec.Tree, partial map[string]bool, opts Options) spec.Diagnostics {
	var diags spec.Diagnostics
	unpinned := map[string]map[string]bool{}
	for _, c := range t.Components {
		unpinned[c.Name] = map[string]bool{}
		for _, u := range c.UnpinnedImages {
			unpinned[c.Name][u.Image] = true
		}
	}
	used := map[string]map[string]bool{}
	for _, im := range images {
		if used[im.Component] == nil {
			used[im.Component] = map[string]bool{}
		}
		used[im.Component][im.Image] = true
		where := fmt.Sprintf("%s: %s: image %q", im.Object, pathString(im.path), im.Image)
		switch {
		case im.Image == "":
			// a container without an image: the schema check's error
		case im.Repository == "":
			diags.Errorf(im.Pos, "%s is not a valid image reference", where)
		case im.Tag == "" && im.Digest == "":
			diags.Errorf(im.Pos, "%s has no tag: whatever the registry calls latest would run; pin a release tag and its digest", where)
		case im.Tag == "latest":
			diags.Errorf(im.Pos, "%s uses the tag latest, which moves: pin a release tag and its digest", where)
		case im.Tag == "":
			diags.Errorf(im.Pos, "%s has a digest but no tag: add the tag it was published as, so a review sees the version", where)
		case im.Digest == "" && !unpinned[im.Component][im.Image]:
			d := spec.Diagnostic{Pos: im.Pos, Severity: spec.SeverityWarning, Message: fmt.Sprintf(
				"%s has a tag but no digest: a tag can be moved; pin it as %s:%s@sha256:… (or list it under the component's unpinnedImages with the reason)", where, im.Repository, im.Tag)}
			if opts.Strict {
				d.Severity = spec.SeverityError
			}
			diags = append(diags, d)
		}
	}
	for _, c := range t.Components {
		for _, u := range c.UnpinnedImages {
			if !used[c.Name][u.Image] && !partial[c.Name] {
				diags.Errorf(u.Pos, "unpinnedImages: %q is not an image component %s runs (%s)", u.Image, c.Name, listOrNone(used[c.Name]))
			}
		}
	}
	return diags
}

func listOrNone(set map[string]bool) string {
	if len(set) == 0 {
		return "it runs none the plan shows"
	}
	var out []string
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return fmt.Sprintf("it runs %v", out)
}
