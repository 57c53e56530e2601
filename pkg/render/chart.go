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

// chartArchive is one fetched chart: its archive, the chart loaded from
// it once checked against its ref, or why there is none.
type chartArchive struct {
	body  []byte
	chart *chart.Chart
	err   error
}

// chartJob is one component's chart in one environment: what it is
// rendered from, and what the render gave.
type chartJob struct {
	c  *spec.Component
	ns string
	// src is the chart as loaded, shared by every job of its archive; ch
	// the job's own copy, which rendering changes.
	src    *chart.Chart
	ch     *chart.Chart
	values map[string]any
	// deferred: the render called lookup before the charts ahead of it were
	// rendered; it is rendered again in its turn.
	deferred  bool
	missed    []string
	docs      []chartDoc
	renderErr error
	docsErr   error
}

// prepareChart loads a component's chart for one environment and expands
// and checks its values; nil when the chart cannot be had, which leaves the
// component partial.
func (r *renderer) prepareChart(c *spec.Component, ns string, lookup func(string) (string, bool)) *chartJob {
	h := c.Helm
	src, ok := r.loadChart(ChartRef{Repo: h.Repo, Chart: h.Chart, Version: h.Version}, h.Pos)
	if !ok {
		r.partial[c.Name] = true
		return nil
	}
	values, _ := expandValue(h.Values, lookup, r.clashAt(h.Pos)).(map[string]any)
	if values == nil {
		values = map[string]any{}
	}
	j := &chartJob{c: c, ns: ns, src: src, ch: copyChart(src), values: values}
	if !r.valuesChecked[c.Name] {
		r.valuesChecked[c.Name] = true
		r.diags = append(r.diags, checkValues(j.ch, h, values, r.opts.Strict)...)
	}
	return j
}

// render renders the job's chart, its lookup calls answered by lookup:
// the chart's templates (test hooks left out) and the CRDs of its crds/
// directories. It reads nothing of the renderer but caps.
func (j *chartJob) render(ctx context.Context, caps *common.Capabilities, lookup func(apiVersion, kind, namespace, name string) (map[string]any, error)) {
	rel := common.ReleaseOptions{Name: j.c.Name, Namespace: j.ns, Revision: 1, IsInstall: true}
	files, err := renderChart(ctx, j.ch, j.values, rel, caps, lookup)
	if err != nil {
		j.renderErr = err
		return
	}
	docs, err := chartDocs(files)
	if err != nil {
		j.docsErr = err
		return
	}
	crds, err := chartCRDs(j.ch)
	if err != nil {
		j.docsErr = err
		return
	}
	j.docs = append(crds, docs...)
}

// chartObjects reports what rendering the job's chart found wrong and
// returns its objects, as objects of the component.
func (r *renderer) chartObjects(j *chartJob) []Object {
	h := j.c.Helm
	ref := ChartRef{Repo: h.Repo, Chart: h.Chart, Version: h.Version}
	if j.renderErr != nil {
		r.diags.Errorf(h.Pos, "chart %s: %v", ref, j.renderErr)
		return nil
	}
	if len(j.missed) > 0 && !r.lookupWarned[j.c.Name] {
		r.lookupWarned[j.c.Name] = true
		r.diags = append(r.diags, spec.Diagnostic{Pos: h.Pos, Severity: spec.SeverityWarning,
			Message: fmt.Sprintf("chart %s: %s looks up %s, which the plan does not hold and nothing reads offline: what it renders assumes the cluster holds none of it", ref, strings.Join(lookupTemplates(j.ch), ", "), missedLookups(j.missed))})
	}
	if j.docsErr != nil {
		r.diags.Errorf(h.Pos, "chart %s: %v", ref, j.docsErr)
		return nil
	}
	var out []Object
	for _, d := range j.docs {
		o := r.finish(d.u, j.c.Name, h.Pos)
		o.source, o.defaultNamespace, o.Template, o.ChartCRD = sourceChart, j.ns, d.template, d.crd
		out = append(out, o)
	}
	return out
}

// loadChart loads the chart ref names, fetching and loading its archive
// once per render; the chart it returns is shared, for copyChart. Without
// it, the component is left out: with a warning when lenient (vet,
// offline), else an error.
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
	if a.chart == nil {
		ch, err := loader.LoadArchive(bytes.NewReader(a.body))
		if err == nil && (ch.Name() != path.Base(ref.Chart) || ch.Metadata.Version != ref.Version) {
			err = fmt.Errorf("the archive holds chart %s version %s", ch.Name(), ch.Metadata.Version)
		}
		if err != nil {
			a.err = err
			r.diags.Errorf(pos, "chart %s: load: %v", ref, err)
			return nil, false
		}
		a.chart = ch
	}
	return a.chart, true
}

// copyChart copies what rendering ch changes (rendering prunes the
// disabled dependencies of the chart it is given, and imports values into
// it): its metadata's dependency list, its values and its dependencies,
// recursively. Templates, files and schema are shared: Helm only reads
// them.
func copyChart(ch *chart.Chart) *chart.Chart {
	c := *ch
	if ch.Metadata != nil {
		md := *ch.Metadata
		md.Dependencies = make([]*chart.Dependency, len(ch.Metadata.Dependencies))
		for i, d := range ch.Metadata.Dependencies {
			dd := *d
			md.Dependencies[i] = &dd
		}
		if ch.Metadata.Dependencies == nil {
			md.Dependencies = nil
		}
		c.Metadata = &md
	}
	c.Values, _ = copyValue(ch.Values).(map[string]any)
	deps := make([]*chart.Chart, len(ch.Dependencies()))
	for i, d := range ch.Dependencies() {
		deps[i] = copyChart(d)
	}
	c.SetDependencies(deps...)
	return &c
}

// copyValue copies the maps and lists of a values tree; scalars are
// shared.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = copyValue(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
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
		u, err := parseDoc([]byte(split[k]))
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		if u != nil {
			out = append(out, u)
		}
	}
	return out, nil
}

// parseDoc parses one YAML document into an object; nil for an empty one.
// An object is converted to JSON once; anything else (a list, a scalar,
// null, broken YAML) is read as a mapping for the words of its error, or
// is empty.
func parseDoc(doc []byte) (*unstructured.Unstructured, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err == nil && len(j) > 0 && j[0] == '{' {
		if string(j) == "{}" {
			return nil, nil
		}
		u := &unstructured.Unstructured{}
		return u, u.UnmarshalJSON(j)
	}
	// What converts to no JSON object reads as no mapping either.
	var obj map[string]any
	return nil, yaml.Unmarshal(doc, &obj)
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
