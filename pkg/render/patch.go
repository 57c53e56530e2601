package render

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/filters/patchjson6902"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"

	"kcloud.dev/kcloud/pkg/spec"
)

// patchDocs applies the patches of a pinned URL manifest to its documents,
// in order, with kustomize's libraries: strategic merge patches through
// ResMap.ApplySmPatch, JSON 6902 patches through its patchjson6902 filter,
// targets through ResMap.Select. The documents are the fetched ones, whose
// sha256 was checked; they are not changed. A patch that matches no object
// is an error at the patch. expand substitutes the patch's ${…}s (it is
// written in the spec, unlike the manifest).
func patchDocs(docs []spec.Doc, patches []spec.Patch, expand func(any, spec.Pos) any) ([]spec.Doc, spec.Diagnostics) {
	var diags spec.Diagnostics
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	m := resmap.New()
	origin := map[resid.ResId]spec.Doc{}
	for _, d := range docs {
		res, err := rf.FromMap(d.Object)
		if err == nil {
			err = m.Append(res)
		}
		if err != nil {
			diags.Errorf(d.Pos, "patch: read object: %v", err)
			return nil, diags
		}
		origin[res.OrgId()] = d
	}
	for _, p := range patches {
		if err := applyPatch(rf, m, p, expand(p.Patch, p.Pos)); err != nil {
			diags.Errorf(p.Pos, "patch: %v", err)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	out := make([]spec.Doc, 0, m.Size())
	for _, res := range m.Resources() {
		// Through JSON, so that numbers are what the rest of kcloud holds
		// (int64 and float64, as unstructured objects take them).
		var obj map[string]any
		b, err := res.MarshalJSON()
		if err == nil {
			err = utiljson.Unmarshal(b, &obj)
		}
		if err != nil {
			diags.Errorf(spec.Pos{}, "patch: %v", err)
			return nil, diags
		}
		d := origin[res.OrgId()]
		out = append(out, spec.Doc{Object: obj, Pos: d.Pos, Syntax: d.Syntax})
	}
	return out, diags
}

// applyPatch applies one patch to the objects it selects.
func applyPatch(rf *resource.Factory, m resmap.ResMap, p spec.Patch, body any) error {
	if ops, ok := body.([]any); ok {
		if p.Target == nil {
			return fmt.Errorf("a JSON 6902 patch (a list of operations) needs a target")
		}
		selected, err := selectTargets(m, selector(*p.Target))
		if err != nil {
			return err
		}
		b, err := json.Marshal(ops)
		if err != nil {
			return err
		}
		for _, res := range selected {
			if err := res.ApplyFilter(patchjson6902.Filter{Patch: string(b)}); err != nil {
				return fmt.Errorf("%s: %w", res.CurId(), err)
			}
		}
		return nil
	}
	obj, _ := body.(map[string]any)
	patch, err := rf.FromMap(obj)
	if err != nil {
		return fmt.Errorf("strategic merge patch: %w", err)
	}
	sel := selfSelector(patch)
	if p.Target != nil {
		sel = selector(*p.Target)
	} else if patch.GetKind() == "" || patch.GetName() == "" {
		return fmt.Errorf("a strategic merge patch without a target names its object: apiVersion, kind and metadata.name")
	}
	selected, err := selectTargets(m, sel)
	if err != nil {
		return err
	}
	return m.ApplySmPatch(resource.MakeIdSet(selected), patch)
}

// selectTargets returns the objects sel selects; none is an error, so that
// a patch left behind by an upstream change never passes unnoticed.
func selectTargets(m resmap.ResMap, sel types.Selector) ([]*resource.Resource, error) {
	selected, err := m.Select(sel)
	if err != nil {
		return nil, err
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("matches no object of the manifest (target %s)", describeSelector(sel))
	}
	return selected, nil
}

// selector is a target as kustomize selects: names and namespaces are
// anchored regular expressions there, so they are quoted here.
func selector(t spec.PatchTarget) types.Selector {
	s := types.Selector{LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
	s.Group, s.Version, s.Kind = t.Group, t.Version, t.Kind
	s.Name = quote(t.Name)
	s.Namespace = quote(t.Namespace)
	return s
}

// selfSelector selects what a strategic merge patch names: its apiVersion,
// kind and name, and its namespace when it gives one.
func selfSelector(patch *resource.Resource) types.Selector {
	var s types.Selector
	gvk := patch.GetGvk()
	s.Group, s.Version, s.Kind = gvk.Group, gvk.Version, gvk.Kind
	s.Name = quote(patch.GetName())
	s.Namespace = quote(patch.GetNamespace())
	return s
}

func quote(s string) string {
	if s == "" {
		return ""
	}
	return regexp.QuoteMeta(s)
}

// describeSelector writes a selector as a user wrote it.
func describeSelector(s types.Selector) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("group", s.Group)
	add("version", s.Version)
	add("kind", s.Kind)
	add("name", unquote(s.Name))
	add("namespace", unquote(s.Namespace))
	add("labelSelector", s.LabelSelector)
	add("annotationSelector", s.AnnotationSelector)
	if len(parts) == 0 {
		return "any object"
	}
	return strings.Join(parts, " ")
}

var quoted = regexp.MustCompile(`\\(.)`)

func unquote(s string) string { return quoted.ReplaceAllString(s, "$1") }
