package render

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/spec"
)

// Object is one rendered object and where it came from.
type Object struct {
	*unstructured.Unstructured
	// Component is the component that rendered it; for what kcloud renders
	// on its own (namespaces, the retained StorageClass) it is the schema's
	// generated component label.
	Component string
	// Origin is where the object is written: an objects entry, a manifest
	// document, a storage or helm entry; zero for generated objects.
	Origin spec.Pos
	// Syntax locates the fields of an objects entry or manifest document;
	// zero for what kcloud renders itself.
	Syntax spec.Syntax

	// defaultNamespace is the component's namespace in this environment,
	// given to namespaced objects that name none.
	defaultNamespace string
	// Template is the chart template that rendered the object
	// (postgresql/templates/primary/statefulset.yaml, or a file of a
	// chart's crds/); empty for what a chart did not render.
	Template string
	// ChartCRD marks a CustomResourceDefinition from a chart's crds/
	// directory: applied before the chart's other objects, never pruned.
	ChartCRD bool

	// source says what rendered the object; rules 2 and 3 apply to what the
	// user wrote.
	source source
}

// FromChart reports whether a Helm chart rendered the object.
func (o Object) FromChart() bool { return o.source == sourceChart }

// Generated reports whether kcloud rendered the object on its own (a
// layer's namespace, the retained StorageClass) rather than a component.
func (o Object) Generated() bool { return o.source == sourceGenerated }

// source is what an object was rendered from.
type source int

// The zero value is a component's object, so that objects made outside
// Render (tests) count as rendered by a component.
const (
	sourceObject    source = iota // an objects entry or a manifest document
	sourceGenerated               // kcloud's own namespaces and StorageClass
	sourceChart                   // a Helm chart's template or crds/ file
	sourceStorage                 // the PVC of a storage entry
)

// Stack is one layer for one environment, with its own inventory.
type Stack struct {
	// Name is l1, l2, l3-<env> or l4-<env>.
	Name  string
	Layer string
	Env   string // empty for shared layers
	// Objects are in apply order: namespaces and CRDs first.
	Objects []Object
}

// Unstructured returns the stack's objects as cli-utils and client-go take
// them.
func (s Stack) Unstructured() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(s.Objects))
	for i, o := range s.Objects {
		out[i] = o.Unstructured
	}
	return out
}

// Result is a whole render, the plan: the selected stacks in apply order,
// the selection, what the plan creates that its objects may need, and the
// context every verb needs to act on it — the SSOT tables (retention
// policy, API groups, layers) and the Cluster it was rendered for — so that
// no verb takes them from elsewhere.
type Result struct {
	Stacks []Stack
	// Others are the stacks the selection leaves out: rendered and checked
	// all the same, for the checks that read the whole plan (a reference
	// from one stack to another); never applied.
	Others    []Stack
	Selection Selection
	// Tables are the SSOT tables the plan was rendered with; diff, apply
	// and status read the retention policy and the API group table here.
	Tables *spec.Tables
	// Cluster is the spec tree's Cluster (nil for plans built by hand):
	// its apiEndpoint and node hosts are what the wrong-cluster guard
	// expects the kubeconfig's server to be.
	Cluster *spec.Cluster
	// CRDs are the kinds the plan's CustomResourceDefinitions define.
	CRDs map[schema.GroupKind]bool
	// Namespaces are the namespaces the plan creates.
	Namespaces map[string]bool
	// Charts is true when the plan deploys Helm charts (K3s HelmCharts),
	// which may install CRDs.
	Charts bool
	// Schemas are the documents of the Cluster's schema sources (CRDs
	// that only give vet schemas); pinned URLs among them are fetched only
	// when a Fetcher is set.
	Schemas []spec.Doc
	// Secrets are the values decrypted from sops files, in every stack
	// (selected or not), for masking. Never print them.
	Secrets []string
	// Partial names the components whose objects the plan does not show
	// whole: a URL manifest left out offline (vet without the cache), or a
	// Helm chart K3s renders in the cluster. Checks that need all of a
	// component's objects skip them.
	Partial map[string]bool
}

// Rendered counts the objects of a stack that its components render:
// what kcloud generates on its own (namespaces) does not count.
func (s Stack) Rendered() int {
	n := 0
	for _, o := range s.Objects {
		if !o.Generated() {
			n++
		}
	}
	return n
}

// Objects returns every object of every stack, in apply order.
func (r *Result) Objects() []Object {
	var out []Object
	for _, s := range r.Stacks {
		out = append(out, s.Objects...)
	}
	return out
}

// WholePlan returns every object of every stack, selected or not, in
// apply order of the stacks.
func (r *Result) WholePlan() []Object {
	all := append(append([]Stack{}, r.Stacks...), r.Others...)
	slices.SortStableFunc(all, func(a, b Stack) int { return stackOrder(a) - stackOrder(b) })
	var out []Object
	for _, s := range all {
		out = append(out, s.Objects...)
	}
	return out
}

func stackOrder(s Stack) int {
	if n, err := strconv.Atoi(strings.TrimPrefix(s.Layer, "L")); err == nil {
		return n
	}
	return 0
}

// Stack returns the stack called name.
func (r *Result) Stack(name string) (Stack, bool) {
	for _, s := range r.Stacks {
		if s.Name == name {
			return s, true
		}
	}
	return Stack{}, false
}

// StackName names the stack of a layer in an environment: l1, l2,
// l3-staging.
func StackName(layer spec.Layer, env string) string {
	name := fmt.Sprintf("l%d", layer.Order)
	if layer.PerEnv() {
		name += "-" + env
	}
	return name
}

// Fetcher fetches a pinned manifest URL; sum is the lowercase sha256 hex
// the spec pins it by (a cache looks it up by that). Render verifies the
// checksum of whatever it returns.
type Fetcher interface {
	Fetch(ctx context.Context, url, sum string) ([]byte, error)
}

// Options select what to render and how.
type Options struct {
	// Layer (L1…L4) and Env select stacks; empty selects all. Every stack is
	// still rendered and checked, so selection never hides an error.
	Layer string
	Env   string
	// Getenv resolves upper-case ${NAME}s; nil resolves none.
	Getenv func(string) (string, bool)
	// Fetcher fetches url manifests. Nil means offline: url manifests are
	// left out (vet).
	Fetcher Fetcher
	// Lenient leaves unset ${NAME}s as written instead of failing, and
	// leaves out url manifests the Fetcher cannot return; vet reports both
	// as warnings. It also makes a sops file no key decrypts a warning, its
	// encrypted values unchecked.
	Lenient bool
	// Decrypt decrypts a sops-encrypted file in memory (secret.Decrypt).
	// Nil decrypts nothing: every sops file is then undecryptable.
	Decrypt func(src []byte) ([]byte, error)
	// Charts returns the archives of the charts helm entries name. Nil
	// renders no chart: each helm component is then partial, with a
	// warning when Lenient and an error otherwise.
	Charts ChartSource
	// Strict makes a values key no chart reads an error, not a warning
	// (vet --strict).
	Strict bool
	// Lookup answers a chart's lookup of what the plan does not hold from
	// the cluster (diff, apply). Nil answers nothing: vet and render warn
	// about each such lookup.
	Lookup LiveLookup
}

// ChartRef names one chart archive: a repository (empty for an OCI
// reference), the chart's name or oci:// reference, and its version.
type ChartRef struct {
	Repo, Chart, Version string
}

// String is how messages name a chart: repo/chart@version.
func (c ChartRef) String() string {
	if c.Repo == "" {
		return c.Chart + "@" + c.Version
	}
	return strings.TrimSuffix(c.Repo, "/") + "/" + c.Chart + "@" + c.Version
}

// ChartSource returns a pinned chart's archive (a .tgz). A cache behind it
// keeps archives by sha256 and a lock file pins each ref to one.
type ChartSource interface {
	Chart(ctx context.Context, ref ChartRef) ([]byte, error)
}
