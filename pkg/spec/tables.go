package spec

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"kcloud.dev/kcloud/schema"
)

// Tables are the SSOT tables decoded from the embedded CUE schema. Every Go
// rule reads them from here.
type Tables struct {
	// Layers are in apply order.
	Layers []Layer
	// NamespaceOwners maps the namespaces kcloud never creates, changes or
	// prunes to their owner.
	NamespaceOwners map[string]string
	// StorageClasses are sorted by name.
	StorageClasses []StorageClass
	Retention      Retention
	RequiredEnvs   []string
	Labels         Labels
	// BusinessDomainRule and PlatformDomainRule are the domain rules in
	// words, for documentation.
	BusinessDomainRule BusinessDomainRule
	PlatformDomainRule string
	KuberoUIService    string
	// PlatformDomainLayer is the layer whose hosts must be platform
	// domains, <service>.<internal>.
	PlatformDomainLayer string
	// Kinds are the document kinds of the spec format.
	Kinds []string
	// APIGroups say who serves the API groups the platform uses without
	// defining them: K3s, or a Helm chart of the plan.
	APIGroups map[string]APIGroup
	// Secrets says how the tree holds secrets (sops files, references).
	Secrets Secrets

	schema    cue.Value
	ctx       *cue.Context
	secretRef *regexp.Regexp
}

// Layer is one row of the layer table.
type Layer struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Scope           string   `json:"scope"`
	Order           int      `json:"order"`
	Namespaces      []string `json:"namespaces,omitempty"`
	NamespacePrefix string   `json:"namespacePrefix,omitempty"`
}

// Layer scopes.
const (
	ScopeShared = "shared"
	ScopePerEnv = "per-env"
)

// PerEnv reports whether the layer exists once per environment.
func (l Layer) PerEnv() bool { return l.Scope == ScopePerEnv }

// EnvNamespace returns the layer's namespace in environment env.
func (l Layer) EnvNamespace(env string) string { return l.NamespacePrefix + env }

// StorageClass is one row of the StorageClass table.
type StorageClass struct {
	Name                 string `json:"name"`
	Provisioner          string `json:"provisioner"`
	ReclaimPolicy        string `json:"reclaimPolicy"`
	For                  string `json:"for"`
	Owner                string `json:"owner"`
	Layer                string `json:"layer,omitempty"`
	VolumeBindingMode    string `json:"volumeBindingMode,omitempty"`
	AllowVolumeExpansion *bool  `json:"allowVolumeExpansion,omitempty"`
}

// APIGroup is one row of the API group table.
type APIGroup struct {
	// ServedBy is "k3s" or "chart".
	ServedBy string `json:"servedBy"`
	// Hint says what to check when the cluster does not serve the group.
	Hint string `json:"hint"`
}

// FromChart reports whether a Helm chart of the plan installs the group's
// CRDs, so the plan may use its kinds before they are served.
func (g APIGroup) FromChart() bool { return g.ServedBy == "chart" }

// Secrets is the schema's secrets table.
type Secrets struct {
	// DemoRecipient is the public age recipient of the demo key.
	DemoRecipient string `json:"demoRecipient"`
	// RefPattern matches the name of a ${secret:NAME/KEY} reference.
	RefPattern string `json:"refPattern"`
	// KeyEnv are the environment variables sops reads age identities from.
	KeyEnv []string `json:"keyEnv"`
}

// Retention names the StorageClass that keeps data and the one that does not.
type Retention struct {
	Stateful          string   `json:"stateful"`
	Stateless         string   `json:"stateless"`
	StatefulByDefault []string `json:"statefulByDefault"`
	ProtectedKinds    []string `json:"protectedKinds"`
	Detach            struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"detach"`
}

// Labels are the label and annotation keys kcloud writes.
type Labels struct {
	ManagedBy          string `json:"managedBy"`
	ManagedByValue     string `json:"managedByValue"`
	Component          string `json:"component"`
	Layer              string `json:"layer"`
	Env                string `json:"env"`
	Stack              string `json:"stack"`
	GeneratedComponent string `json:"generatedComponent"`
}

// BusinessDomainRule describes the business domains of an environment.
type BusinessDomainRule struct {
	App         string `json:"app"`
	API         string `json:"api"`
	EmptyPrefix struct {
		App string `json:"app"`
		API string `json:"api"`
	} `json:"emptyPrefix"`
}

var (
	loadOnce   sync.Once
	loadedTabs *Tables
	loadErr    error
)

// LoadTables compiles the embedded schema once and decodes its tables.
func LoadTables() (*Tables, error) {
	loadOnce.Do(func() { loadedTabs, loadErr = compileTables() })
	return loadedTabs, loadErr
}

func compileTables() (*Tables, error) {
	inst := build.NewContext().NewInstance("schema", nil)
	files, err := fs.Glob(schema.FS, "*.cue")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, name := range files {
		src, err := fs.ReadFile(schema.FS, name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile("schema/"+name, src)
		if err != nil {
			return nil, fmt.Errorf("schema/%s: %w", name, err)
		}
		if err := inst.AddSyntax(f); err != nil {
			return nil, fmt.Errorf("schema/%s: %w", name, err)
		}
	}
	ctx := cuecontext.New()
	v := ctx.BuildInstance(inst)
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	t := &Tables{schema: v, ctx: ctx}
	var layers map[string]Layer
	var classes map[string]StorageClass
	for _, f := range []struct {
		path string
		dst  any
	}{
		{"layers", &layers},
		{"namespaceOwners", &t.NamespaceOwners},
		{"storageClasses", &classes},
		{"retention", &t.Retention},
		{"environments.required", &t.RequiredEnvs},
		{"labels", &t.Labels},
		{"businessDomainRule", &t.BusinessDomainRule},
		{"platformDomainRule", &t.PlatformDomainRule},
		{"kuberoUIService", &t.KuberoUIService},
		{"platformDomainLayer", &t.PlatformDomainLayer},
		{"kinds", &t.Kinds},
		{"apiGroups", &t.APIGroups},
		{"secrets", &t.Secrets},
	} {
		if err := v.LookupPath(cue.ParsePath(f.path)).Decode(f.dst); err != nil {
			return nil, fmt.Errorf("schema: %s: %w", f.path, err)
		}
	}
	for _, l := range layers {
		t.Layers = append(t.Layers, l)
	}
	sort.Slice(t.Layers, func(i, j int) bool { return t.Layers[i].Order < t.Layers[j].Order })
	for _, c := range classes {
		t.StorageClasses = append(t.StorageClasses, c)
	}
	sort.Slice(t.StorageClasses, func(i, j int) bool { return t.StorageClasses[i].Name < t.StorageClasses[j].Name })
	if t.secretRef, err = regexp.Compile(t.Secrets.RefPattern); err != nil {
		return nil, fmt.Errorf("schema: secrets.refPattern: %w", err)
	}
	return t, nil
}

// Layer returns the row of layer id (L1…L4).
func (t *Tables) Layer(id string) (Layer, bool) {
	for _, l := range t.Layers {
		if l.ID == id {
			return l, true
		}
	}
	return Layer{}, false
}

// LayerIDs returns L1…L4 in order.
func (t *Tables) LayerIDs() []string {
	out := make([]string, len(t.Layers))
	for i, l := range t.Layers {
		out[i] = l.ID
	}
	return out
}

// StorageClass returns the row of the StorageClass called name.
func (t *Tables) StorageClass(name string) (StorageClass, bool) {
	for _, c := range t.StorageClasses {
		if c.Name == name {
			return c, true
		}
	}
	return StorageClass{}, false
}

// StorageClassNames returns the names of the table's StorageClasses.
func (t *Tables) StorageClassNames() []string {
	out := make([]string, len(t.StorageClasses))
	for i, c := range t.StorageClasses {
		out[i] = c.Name
	}
	return out
}

// BusinessDomains evaluates the schema's #BusinessDomains rule for one
// environment.
func (t *Tables) BusinessDomains(prefix, base string) (app, api string, err error) {
	v := t.schema.LookupPath(cue.ParsePath("#BusinessDomains")).
		FillPath(cue.ParsePath("prefix"), prefix).
		FillPath(cue.ParsePath("base"), base)
	var out struct{ App, API string }
	if err := v.Decode(&out); err != nil {
		return "", "", fmt.Errorf("business domains of prefix %q: %w", prefix, err)
	}
	return out.App, out.API, nil
}

// PlatformDomain evaluates the schema's #PlatformDomain rule.
func (t *Tables) PlatformDomain(service, internal string) (string, error) {
	v := t.schema.LookupPath(cue.ParsePath("#PlatformDomain")).
		FillPath(cue.ParsePath("service"), service).
		FillPath(cue.ParsePath("internal"), internal)
	var d string
	if err := v.LookupPath(cue.ParsePath("domain")).Decode(&d); err != nil {
		return "", fmt.Errorf("platform domain of %q: %w", service, err)
	}
	return d, nil
}

// def returns a definition of the schema, such as #Component.
func (t *Tables) def(name string) cue.Value {
	return t.schema.LookupPath(cue.ParsePath(name))
}

// helmKeep is Helm's resource-policy annotation: cli-utils' pruning leaves
// such objects in place too (sigs.k8s.io/cli-utils pkg/common NoDeletion).
const helmKeepKey, helmKeepValue = "helm.sh/resource-policy", "keep"

// Protects reports whether pruning an object of kind with annotations
// detaches it (leaves it in the cluster) unless data loss is allowed: a
// protected kind, the detach annotation, or Helm's keep policy.
func (r Retention) Protects(kind string, annotations map[string]string) bool {
	if slices.Contains(r.ProtectedKinds, kind) {
		return true
	}
	return annotations[r.Detach.Key] == r.Detach.Value || annotations[helmKeepKey] == helmKeepValue
}

// FromChart reports whether the CRD of a kind of group comes from a Helm
// chart of the plan rather than from the cluster or the plan's own CRDs.
func (t *Tables) FromChart(group string) bool {
	g, ok := t.APIGroups[group]
	return ok && g.FromChart()
}

// Hint says why a kind of group may not be served.
func (t *Tables) Hint(group string) string {
	if g, ok := t.APIGroups[group]; ok {
		return g.Hint
	}
	return "install its CRD first (from a component in an earlier layer) or check the apiVersion"
}
