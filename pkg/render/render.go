package render

import (
	"context"
	"fmt"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"kcloud.dev/kcloud/pkg/spec"
)

// Render renders every stack of t, checks rules 2, 3 and 5 on the result and
// returns the stacks opts selects. Any error diagnostic means the result
// must not be applied; it is nil then.
func Render(ctx context.Context, t *spec.Tree, opts Options) (*Result, spec.Diagnostics) {
	r := &renderer{ctx: ctx, tree: t, tabs: t.Tables, opts: opts, fetched: map[string][]spec.Doc{}, partial: map[string]bool{},
		archives: map[ChartRef]*chartArchive{}, valuesChecked: map[string]bool{}, lookupWarned: map[string]bool{}}
	var diags spec.Diagnostics
	if err := opts.CheckSelection(t); err != nil {
		diags.Errorf(spec.Pos{}, "%v", err)
		return nil, diags
	}
	if !opts.Lenient {
		diags = append(diags, t.MissingVars(r.getenv, spec.SeverityError, true)...)
		if diags.HasErrors() {
			return nil, diags.Sorted()
		}
	}
	// The Cluster's values reach K3s's flags and SSH: checked expanded,
	// so that no command that loads a tree accepts one bootstrap refuses.
	diags = append(diags, t.Cluster.ExpandedDiagnostics(r.getenv)...)
	r.decryptAll()
	stacks := r.renderAll()
	var schemas []spec.Doc
	for _, m := range t.Cluster.Schemas {
		if m.URL != "" && opts.Fetcher == nil {
			diags = append(diags, spec.Diagnostic{Pos: m.Pos, Severity: spec.SeverityWarning,
				Message: fmt.Sprintf("schema source %s is not fetched offline: the kinds it defines are not checked", m.URL)})
		}
		schemas = append(schemas, r.manifestDocs(m)...)
	}
	diags = append(diags, r.diags...)
	diags = append(diags, checkRendered(t, stacks)...)
	diags = append(diags, checkPlatformDomains(t, stacks)...)
	if diags.HasErrors() {
		return nil, diags.Sorted()
	}
	for i := range stacks {
		addDependsOn(t, &stacks[i])
		sortObjects(stacks[i].Objects)
	}
	var selected, others []Stack
	for _, s := range stacks {
		if r.selected(s) {
			selected = append(selected, s)
		} else {
			others = append(others, s)
		}
	}
	out := NewResult(t.Tables, r.selection(), selected...)
	out.Cluster = t.Cluster
	out.Others = others
	out.Schemas = schemas
	out.Secrets = uniqueSorted(r.values)
	out.Partial = r.partial
	return out, diags.Sorted()
}

type renderer struct {
	ctx     context.Context
	tree    *spec.Tree
	tabs    *spec.Tables
	opts    Options
	diags   spec.Diagnostics
	fetched map[string][]spec.Doc
	// decrypted holds the objects of each sops file, by path; secrets the
	// Secrets each component renders from them; values every value that
	// was encrypted.
	decrypted map[string][]spec.Doc
	secrets   map[string]secretData
	values    []string
	// partial: components whose objects are not all rendered (Result.Partial).
	partial map[string]bool
	// archives are the chart archives fetched, by ref; caps what charts
	// see as .Capabilities; valuesChecked and lookupWarned the components
	// whose chart values were checked, or whose lookups were reported,
	// once for all their environments.
	archives      map[ChartRef]*chartArchive
	caps          *common.Capabilities
	valuesChecked map[string]bool
	lookupWarned  map[string]bool
}

func (r *renderer) getenv(name string) (string, bool) {
	if r.opts.Getenv == nil {
		return "", false
	}
	return r.opts.Getenv(name)
}

// CheckSelection says what is wrong with the Layer and Env of o for t, in
// the words of the --layer and --env flags; nil when they select stacks
// t has. Render checks it first; commands check it before, as a usage
// error.
func (o Options) CheckSelection(t *spec.Tree) error {
	if l := o.Layer; l != "" {
		layer, ok := t.Tables.Layer(l)
		if !ok {
			return fmt.Errorf("--layer %q: use one of %s", l, strings.Join(t.Tables.LayerIDs(), ", "))
		}
		if o.Env != "" && !layer.PerEnv() {
			return fmt.Errorf("--env: %s is shared by every environment; use --env only with a per-environment layer", l)
		}
	}
	if e := o.Env; e != "" && t.Cluster != nil {
		if _, ok := t.Cluster.Env(e); !ok {
			return fmt.Errorf("--env %q: use one of %s", e, strings.Join(t.Cluster.EnvNames(), ", "))
		}
	}
	return nil
}

// selection is the checked selection as stack names read.
func (r *renderer) selection() Selection {
	sel := Selection{Env: r.opts.Env}
	if layer, ok := r.tabs.Layer(r.opts.Layer); ok {
		sel.Order = layer.Order
	}
	return sel
}

func (r *renderer) selected(s Stack) bool { return r.selection().Match(s.Name) }

// renderAll renders every stack of the tree, in apply order.
func (r *renderer) renderAll() []Stack {
	cl := r.tree.Cluster
	var stacks []Stack
	// Charts render last, in tree order, so that their lookups are
	// answered from every object of the plan but those of the charts
	// after them (renderCharts).
	var charts []pendingChart
	for _, layer := range r.tabs.Layers {
		envs := []string{""}
		if layer.PerEnv() {
			envs = cl.EnvNames()
		}
		for _, env := range envs {
			s := Stack{Name: StackName(layer, env), Layer: layer.ID, Env: env}
			var objs []Object
			used := false
			for _, c := range r.tree.Components {
				if c.Layer != layer.ID || (layer.PerEnv() && !contains(c.Envs, env)) {
					continue
				}
				used = true
				objs = append(objs, r.component(c, layer, env)...)
				if c.Helm != nil {
					charts = append(charts, pendingChart{len(stacks), c, layer, env})
				}
			}
			s.Objects = append(r.generated(layer, env, used), objs...)
			stacks = append(stacks, s)
		}
	}
	r.renderCharts(charts, stacks)
	r.mergeNamespaces(stacks)
	fillNamespaces(stacks)
	return stacks
}

// generated renders what kcloud owns on its own in a stack: the layer's
// namespaces and the StorageClasses the table gives kcloud for this layer.
// The namespaces of a shared layer (L1, L2) are rendered only when a
// component of the tree is in the layer (used): a tree with no L1 or L2
// component renders no bootstrap, cert-manager, kubero,
// kubero-operator-system or platform namespace. An environment's namespace
// (data-<env>, apps-<env>) is always rendered: the Cluster declares the
// environment. The StorageClasses are always rendered: PersistentVolumeClaims
// of every layer use them.
func (r *renderer) generated(layer spec.Layer, env string, used bool) []Object {
	var out []Object
	namespaces := layer.Namespaces
	switch {
	case layer.PerEnv():
		namespaces = []string{layer.EnvNamespace(env)}
	case !used:
		namespaces = nil
	}
	for _, ns := range namespaces {
		if _, owned := r.tabs.NamespaceOwners[ns]; owned {
			continue // kube-system: K3s owns it
		}
		labels := map[string]any{r.tabs.Labels.Layer: layer.ID}
		if env != "" {
			labels[r.tabs.Labels.Env] = env
		}
		u := newObject("v1", "Namespace", ns, "")
		_ = unstructured.SetNestedField(u.Object, labels, "metadata", "labels")
		out = append(out, r.generatedObject(u))
	}
	for _, sc := range r.tabs.StorageClasses {
		if sc.Owner != "kcloud" || sc.Layer != layer.ID || env != "" {
			continue
		}
		u := newObject("storage.k8s.io/v1", "StorageClass", sc.Name, "")
		u.Object["provisioner"] = sc.Provisioner
		u.Object["reclaimPolicy"] = sc.ReclaimPolicy
		if sc.VolumeBindingMode != "" {
			u.Object["volumeBindingMode"] = sc.VolumeBindingMode
		}
		if sc.AllowVolumeExpansion != nil {
			u.Object["allowVolumeExpansion"] = *sc.AllowVolumeExpansion
		}
		out = append(out, r.generatedObject(u))
	}
	return out
}

// generatedObject finishes an object kcloud renders on its own.
func (r *renderer) generatedObject(u *unstructured.Unstructured) Object {
	o := r.finish(u, r.tabs.Labels.GeneratedComponent, spec.Pos{})
	o.source = sourceGenerated
	return o
}

// component renders one component in one environment (env is empty for
// shared layers).
// A chart is rendered apart, once every other object is (renderAll).
func (r *renderer) component(c *spec.Component, layer spec.Layer, env string) []Object {
	ns := r.componentNamespace(c, layer, env)
	lookup := r.lookup(c, ns, env)
	var out []Object
	// add renders an object; a fetched third-party manifest is used as
	// published (no ${…} substitution: a pinned file must not be able to
	// pull the environment of whoever runs kcloud into the cluster).
	add := func(d spec.Doc, substitute bool) {
		obj := d.Object
		if substitute {
			obj, _ = expandValue(obj, lookup, r.clashAt(d.Pos)).(map[string]any)
		} else {
			obj = runtime.DeepCopyJSON(obj)
		}
		o := r.finish(&unstructured.Unstructured{Object: obj}, c.Name, d.Pos)
		o.Syntax, o.defaultNamespace, o.source = d.Syntax, ns, sourceObject
		out = append(out, o)
	}

	for _, m := range c.Manifests {
		docs, substitute := r.expandSOPS(m, r.manifestDocs(m), lookup)
		if m.URL != "" && docs == nil {
			r.partial[c.Name] = true
		}
		if len(m.Patches) > 0 && len(docs) > 0 {
			var diags spec.Diagnostics
			docs, diags = patchDocs(docs, m.Patches, func(v any, p spec.Pos) any { return expandValue(v, lookup, r.clashAt(p)) })
			r.diags = append(r.diags, diags...)
		}
		for _, d := range docs {
			add(d, substitute)
		}
	}
	for _, d := range c.Objects {
		add(d, true)
	}
	for _, v := range c.Storage {
		o := r.finish(pvc(c.Name+"-"+v.Name, ns, v), c.Name, v.Pos)
		o.source = sourceStorage
		out = append(out, o)
	}
	return out
}

// componentNamespace is c's namespace in env: each environment's own in a
// per-environment layer.
func (r *renderer) componentNamespace(c *spec.Component, layer spec.Layer, env string) string {
	if layer.PerEnv() {
		return layer.EnvNamespace(env)
	}
	return c.Namespace
}

// lookup resolves the substitutions of a component in one environment.
func (r *renderer) lookup(c *spec.Component, ns, env string) func(string) (string, bool) {
	cl := r.tree.Cluster
	vals := map[string]string{
		spec.VarNamespace:      ns,
		spec.VarDomainInternal: cl.Domains.Internal,
		spec.VarDomainBase:     cl.Domains.Base,
	}
	if e, ok := cl.Env(env); ok {
		vals[spec.VarEnv] = e.Name
		vals[spec.VarPrefix] = e.Prefix
		vals[spec.VarDomainApp] = e.App
		vals[spec.VarDomainAPI] = e.API
	}
	return func(name string) (string, bool) {
		if spec.IsEnvVar(name) {
			return r.getenv(name)
		}
		if spec.IsSecretRef(name) {
			return r.secretValue(c, name)
		}
		v, ok := vals[name]
		return v, ok
	}
}

func pvc(name, ns string, v spec.Volume) *unstructured.Unstructured {
	u := newObject("v1", "PersistentVolumeClaim", name, ns)
	u.Object["spec"] = map[string]any{
		"accessModes":      []any{"ReadWriteOnce"},
		"storageClassName": v.StorageClass,
		"resources": map[string]any{
			"requests": map[string]any{"storage": v.Size},
		},
	}
	return u
}

func newObject(apiVersion, kind, name, ns string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetName(name)
	if ns != "" {
		u.SetNamespace(ns)
	}
	return u
}

// finish adds kcloud's labels, and the detach annotation on protected kinds,
// so pruning keeps their data.
func (r *renderer) finish(u *unstructured.Unstructured, component string, origin spec.Pos) Object {
	lbl := r.tabs.Labels
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[lbl.ManagedBy] = lbl.ManagedByValue
	labels[lbl.Component] = component
	u.SetLabels(labels)
	if contains(r.tabs.Retention.ProtectedKinds, u.GetKind()) {
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[r.tabs.Retention.Detach.Key] = r.tabs.Retention.Detach.Value
		u.SetAnnotations(ann)
	}
	return Object{Unstructured: u, Component: component, Origin: origin}
}

// applyOrder is the order in which kinds are applied, like Helm's install
// order; kinds not listed come after, before webhooks.
var applyOrder = []string{
	"Namespace", "CustomResourceDefinition", "PriorityClass", "StorageClass",
	"ResourceQuota", "LimitRange", "NetworkPolicy", "PodDisruptionBudget",
	"ServiceAccount", "Secret", "ConfigMap", "PersistentVolume", "PersistentVolumeClaim",
	"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
	"Service", "DaemonSet", "Deployment", "StatefulSet", "Job", "CronJob",
	"IngressClass", "Ingress", "HelmChartConfig", "HelmChart",
}

var lastKinds = []string{"APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}

// manifestDocs returns a manifest's documents, fetching pinned URLs when a
// Fetcher is set.
func (r *renderer) manifestDocs(m spec.Manifest) []spec.Doc {
	if m.SOPS != nil {
		return r.decrypted[m.Path]
	}
	if m.URL == "" {
		return m.Docs
	}
	if r.opts.Fetcher == nil {
		return nil // offline: vet checks what it can without the network
	}
	if docs, ok := r.fetched[m.URL]; ok {
		return docs
	}
	docs, diags := fetchManifest(r.ctx, r.opts.Fetcher, m, r.opts.Lenient)
	r.diags = append(r.diags, diags...)
	r.fetched[m.URL] = docs
	return docs
}
