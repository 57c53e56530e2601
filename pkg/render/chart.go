package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"

	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/pkg/spec"
)

// The hooks kcloud never applies: a chart's tests (`helm test`), which
// Helm itself never installs either
// (https://github.com/helm/helm/blob/v4.3.2/pkg/release/v1/hook.go).
const (
	hookTest    = "test"
	hookTestOld = "test-success"
)

// chartArchive is one fetched chart: its archive, or why there is none.
type chartArchive struct {
	body []byte
	err  error
}

// chart renders a component's chart in one environment: the chart's
// templates (test hooks left out) and the CRDs of its crds/ directories,
// as objects of the component. A chart that cannot be had leaves the
// component partial.
func (r *renderer) chart(c *spec.Component, h *spec.Helm, ns string, lookup func(string) (string, bool), stacks []Stack) []Object {
	ref := ChartRef{Repo: h.Repo, Chart: h.Chart, Version: h.Version}
	ch, ok := r.loadChart(ref, h.Pos)
	if !ok {
		r.partial[c.Name] = true
		return nil
	}
	values, _ := expandValue(h.Values, lookup, r.clashAt(h.Pos)).(map[string]any)
	if values == nil {
		values = map[string]any{}
	}
	if !r.valuesChecked[c.Name] {
		r.valuesChecked[c.Name] = true
		r.diags = append(r.diags, checkValues(ch, h, values, r.opts.Strict)...)
	}
	lk := &chartLookup{ctx: r.ctx, stacks: stacks, live: r.opts.Lookup}
	files, err := renderChart(r.ctx, ch, values, common.ReleaseOptions{Name: c.Name, Namespace: ns, Revision: 1, IsInstall: true}, r.capabilities(), lk.lookup)
	if err != nil {
		r.diags.Errorf(h.Pos, "chart %s: %v", ref, err)
		return nil
	}
	if len(lk.missed) > 0 && !r.lookupWarned[c.Name] {
		r.lookupWarned[c.Name] = true
		r.diags = append(r.diags, spec.Diagnostic{Pos: h.Pos, Severity: spec.SeverityWarning,
			Message: fmt.Sprintf("chart %s: %s looks up %s, which the plan does not hold and nothing reads offline: what it renders assumes the cluster holds none of it", ref, strings.Join(lookupTemplates(ch), ", "), missedLookups(lk.missed))})
	}
	docs, err := chartDocs(files)
	if err != nil {
		r.diags.Errorf(h.Pos, "chart %s: %v", ref, err)
		return nil
	}
	crds, err := chartCRDs(ch)
	if err != nil {
		r.diags.Errorf(h.Pos, "chart %s: %v", ref, err)
		return nil
	}
	var out []Object
	for _, d := range append(crds, docs...) {
		o := r.finish(d.u, c.Name, h.Pos)
		o.source, o.defaultNamespace, o.Template, o.ChartCRD = sourceChart, ns, d.template, d.crd
		out = append(out, o)
	}
	return out
}

// loadChart loads the chart ref names, fetching its archive once per
// render. Without it, the component is left out: with a warning when
// lenient (vet, offline), else an error.
func (r *renderer) loadChart(ref ChartRef, pos spec.Pos) (*chart.Chart, bool) {
	a, ok := r.archives[ref]
	if !ok {
		a = &chartArchive{err: errors.New("no chart source (offline)")}
		if r.opts.Charts != nil {
			a.body, a.err = r.opts.Charts.Chart(r.ctx, ref)
		}
		r.archives[ref] = a
		if a.err != nil && r.opts.Lenient {
			r.diags = append(r.diags, spec.Diagnostic{Pos: pos, Severity: spec.SeverityWarning,
				Message: fmt.Sprintf("chart %s: %v; its objects and values are not checked", ref, a.err)})
		} else if a.err != nil {
			r.diags.Errorf(pos, "chart %s: %v", ref, a.err)
		}
	}
	if a.err != nil {
		return nil, false
	}
	// Loaded afresh each time: rendering prunes the disabled dependencies
	// of the chart it is given.
	ch, err := loader.LoadArchive(bytes.NewReader(a.body))
	if err == nil && (ch.Name() != path.Base(ref.Chart) || ch.Metadata.Version != ref.Version) {
		err = fmt.Errorf("the archive holds chart %s version %s", ch.Name(), ch.Metadata.Version)
	}
	if err != nil {
		a.err = err
		r.diags.Errorf(pos, "chart %s: load: %v", ref, err)
		return nil, false
	}
	return ch, true
}

// renderChart renders ch's templates as Helm's install does (values
// coalesced with the chart's defaults, dependencies enabled by their
// conditions), its lookup calls answered by lookup.
func renderChart(ctx context.Context, ch *chart.Chart, values map[string]any, rel common.ReleaseOptions, caps *common.Capabilities,
	lookup func(apiVersion, kind, namespace, name string) (map[string]any, error)) (map[string]string, error) {
	if v := ch.Metadata.KubeVersion; v != "" && !chartutil.IsCompatibleRange(v, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("the chart requires Kubernetes %s; the Cluster's K3s is %s", v, caps.KubeVersion.Version)
	}
	if err := chartutil.ProcessDependencies(ch, values); err != nil {
		return nil, fmt.Errorf("dependencies: %w", err)
	}
	// The values schema is checked by checkValues, at the spec's lines.
	vals, err := commonutil.ToRenderValuesWithSchemaValidation(ch, values, rel, caps, true)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	e := engine.Engine{CustomTemplateFuncs: template.FuncMap{"lookup": lookup}}
	return e.RenderWithContext(ctx, ch, vals)
}

// chartDoc is one object of a chart and the file it came from.
type chartDoc struct {
	u        *unstructured.Unstructured
	template string
	crd      bool
}

// chartDocs splits rendered templates into objects, in file order then
// document order; empty documents, partials and NOTES.txt are skipped,
// and so are test hooks.
func chartDocs(files map[string]string) ([]chartDoc, error) {
	var out []chartDoc
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if strings.HasPrefix(path.Base(name), "_") || strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		docs, err := parseDocs(name, files[name])
		if err != nil {
			return nil, err
		}
		for _, u := range docs {
			if isTestHook(u) {
				continue
			}
			out = append(out, chartDoc{u: u, template: name})
		}
	}
	return out, nil
}

// chartCRDs returns the CRDs of the crds/ directories of ch and its
// enabled dependencies, as Helm installs them: not templated.
func chartCRDs(ch *chart.Chart) ([]chartDoc, error) {
	var out []chartDoc
	for _, crd := range ch.CRDObjects() {
		docs, err := parseDocs(crd.Filename, string(crd.File.Data))
		if err != nil {
			return nil, err
		}
		for _, u := range docs {
			out = append(out, chartDoc{u: u, template: crd.Filename, crd: true})
		}
	}
	return out, nil
}

// parseDocs parses the YAML documents of one rendered file.
func parseDocs(name, content string) ([]*unstructured.Unstructured, error) {
	if strings.TrimSpace(content) == "" {
		return nil, nil
	}
	split := releaseutil.SplitManifests(content)
	keys := slices.Collect(maps.Keys(split))
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var out []*unstructured.Unstructured
	for i, k := range keys {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(split[k]), &obj); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		if len(obj) == 0 {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(split[k]))
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// isTestHook reports whether u is a `helm test` hook.
func isTestHook(u *unstructured.Unstructured) bool {
	for _, h := range strings.Split(u.GetAnnotations()[hookAnnotation], ",") {
		if h = strings.TrimSpace(h); h == hookTest || h == hookTestOld {
			return true
		}
	}
	return false
}

// lookupTemplates names the templates of ch (and its dependencies) that
// call lookup, for the warning that it reads nothing offline.
func lookupTemplates(ch *chart.Chart) []string {
	var out []string
	var walk func(c *chart.Chart)
	walk = func(c *chart.Chart) {
		for _, t := range c.Templates {
			if lookupCall.Match(t.Data) {
				out = append(out, path.Join(c.ChartFullPath(), t.Name))
			}
		}
		for _, d := range c.Dependencies() {
			walk(d)
		}
	}
	walk(ch)
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"its templates"}
	}
	return out
}

// lookupCall finds a call of Helm's lookup function in a template.
var lookupCall = regexp.MustCompile(`\blookup\s+"`)
