package spec

// APIVersion is the only spec version this kcloud reads.
const APIVersion = "kcloud.dev/v1alpha1"

// Tree is a loaded, validated spec tree: one Cluster and its Components.
type Tree struct {
	// Tables are the SSOT tables from the embedded schema.
	Tables *Tables
	// Cluster is the one Cluster document.
	Cluster *Cluster
	// Components are sorted by name.
	Components []*Component
	// Vars lists every ${NAME} read from the process environment, with
	// where it is used.
	Vars []VarRef
	// SecretRefs lists every ${secret:NAME/KEY}, with where it is used.
	SecretRefs []SecretRef
	// Encrypted lists the sops-encrypted manifest files, by path.
	Encrypted []*SOPSFile
}

// SecretRef is one ${secret:NAME/KEY} reference: the value KEY of the
// Secret NAME rendered from a sops-encrypted manifest.
type SecretRef struct {
	Secret, Key string
	Pos         Pos
	Component   string
}

// Component returns the component called name, or nil.
func (t *Tree) Component(name string) *Component {
	for _, c := range t.Components {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Cluster is the kind: Cluster document.
type Cluster struct {
	Name         string
	K3s          K3s
	APIEndpoint  string // raw, may hold ${NAME}; empty means the first server's host
	Nodes        []Node
	StoragePath  string
	Domains      Domains
	Environments []Environment
	// Schemas are CRD files or pinned URLs that only give vet the schemas
	// of custom resources (of CRDs a chart installs); nothing is applied.
	Schemas []Manifest
	// Demo is why the tree's sops files may be encrypted to the public
	// demo key alone (empty: they may not, and vet warns about each);
	// DemoPos is where it is written.
	Demo    string
	DemoPos Pos
	// File is the spec file; Pos is where the document's metadata.name is.
	File string
	Pos  Pos
	// APIEndpointPos and StoragePathPos are where those are written (or
	// the closest parent when they are not).
	APIEndpointPos, StoragePathPos Pos
}

// Env returns the environment called name.
func (c *Cluster) Env(name string) (Environment, bool) {
	for _, e := range c.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// EnvNames returns the environment names in the Cluster's order.
func (c *Cluster) EnvNames() []string {
	out := make([]string, len(c.Environments))
	for i, e := range c.Environments {
		out[i] = e.Name
	}
	return out
}

// Servers returns the server nodes in spec order; the first one initialises
// the cluster.
func (c *Cluster) Servers() []Node { return c.nodesWithRole(RoleServer) }

// Agents returns the agent nodes in spec order.
func (c *Cluster) Agents() []Node { return c.nodesWithRole(RoleAgent) }

func (c *Cluster) nodesWithRole(role string) []Node {
	var out []Node
	for _, n := range c.Nodes {
		if n.Role == role {
			out = append(out, n)
		}
	}
	return out
}

// K3s selects the K3s release: exactly one of Channel and Version is set.
type K3s struct {
	Channel string
	Version string
	Disable []string
	// SnapshotRetain is how many of its snapshots bootstrap keeps on the
	// first server (k3s.snapshots.retain).
	SnapshotRetain int
}

// Node roles.
const (
	RoleServer = "server"
	RoleAgent  = "agent"
)

// Node is one machine of the cluster. Host, User and APIEndpoint may hold
// ${NAME} references; expand them with Expand when the command runs.
type Node struct {
	Name    string
	Host    string
	User    string
	Port    int
	Role    string
	HostKey string // optional SHA256:… fingerprint pinning the SSH host key
	Pos     Pos    // of the node's entry
	HostPos Pos    // of its host field
}

// Domains are the Cluster's DNS zones.
type Domains struct {
	Internal string
	Base     string
}

// Environment is one entry of the Cluster's environments.
type Environment struct {
	Name   string
	Prefix string
	// App and API are the business domains computed by the schema's
	// #BusinessDomains rule.
	App string
	API string
	Pos Pos
}

// Component is one kind: Component document.
type Component struct {
	Name      string
	Layer     string
	Namespace string   // L1/L2 only; L3/L4 namespaces are derived per environment
	Envs      []string // L3/L4: the environments it exists in, in Cluster order
	Stateful  bool
	Storage   []Volume
	DependsOn []string
	Helm      *Helm
	Manifests []Manifest
	Objects   []Doc
	// UnpinnedImages are the images the component runs by tag alone on
	// purpose, each with its reason.
	UnpinnedImages []UnpinnedImage
	// File is the spec file; Pos is where metadata.name is.
	File string
	Pos  Pos
	// DependsOnPos holds the position of each DependsOn entry.
	DependsOnPos []Pos
}

// Volume is a storage entry, rendered as a PersistentVolumeClaim.
type Volume struct {
	Name         string
	Size         string
	StorageClass string // defaulted from the retention table
	Pos          Pos
}

// Helm is a chart kcloud renders with Helm's SDK into the component's
// objects: from an HTTPS chart repository (Repo + Chart) or an OCI
// reference (Chart is oci://…, Repo empty), at a pinned Version.
type Helm struct {
	Repo    string
	Chart   string
	Version string
	Values  map[string]any // substitutions apply; checked against the chart
	Pos     Pos
	// ValuesSyntax locates each key of Values, so a values check names
	// the line of the key it is about.
	ValuesSyntax Syntax
}

// Manifest is a file of plain Kubernetes objects or a pinned URL.
type Manifest struct {
	// Path is the file's absolute path, for local manifests.
	Path string
	// URL and SHA256 are set for remote manifests; render fetches them.
	URL    string
	SHA256 string
	// Docs are the file's objects, for local manifests. For an encrypted
	// file every encrypted value is its type's zero value: what can be
	// checked without a key.
	Docs []Doc
	Pos  Pos
	// SOPS is set when the file is encrypted with sops: render decrypts
	// SOPS.Source in memory.
	SOPS *SOPSFile
	// Patches change a URL manifest's objects after its sha256 check.
	Patches []Patch
}

// Patch is one patch of a pinned URL manifest: a strategic merge patch
// (Patch is a mapping) or a JSON 6902 patch (Patch is a list of
// operations, and Target is set).
type Patch struct {
	Target *PatchTarget
	Patch  any
	Pos    Pos
}

// JSON6902 reports whether p is a JSON 6902 patch (a list of operations).
func (p Patch) JSON6902() bool {
	_, ok := p.Patch.([]any)
	return ok
}

// PatchTarget selects the objects a patch applies to, as kustomize's
// selectors do; empty fields match anything.
type PatchTarget struct {
	Group              string `json:"group,omitempty"`
	Version            string `json:"version,omitempty"`
	Kind               string `json:"kind,omitempty"`
	Name               string `json:"name,omitempty"`
	Namespace          string `json:"namespace,omitempty"`
	LabelSelector      string `json:"labelSelector,omitempty"`
	AnnotationSelector string `json:"annotationSelector,omitempty"`
}

// UnpinnedImage is an image a component runs by tag alone, with why.
type UnpinnedImage struct {
	Image  string
	Reason string
	Pos    Pos
}

// SOPSFile is a manifest file encrypted with sops, as read without a key.
type SOPSFile struct {
	// Path is the file as displayed.
	Path string
	// Source is the encrypted file's bytes.
	Source []byte
	// Pos is where its sops metadata is written.
	Pos Pos
	// Recipients are its age recipients; OtherKeys counts its master keys
	// of other kinds (PGP, cloud KMS, Vault).
	Recipients []string
	OtherKeys  int
}

// Doc is one Kubernetes object as written, with where it starts.
type Doc struct {
	Object map[string]any
	Pos    Pos
	// Syntax locates the object's fields.
	Syntax Syntax
}

// VarRef is one ${NAME} reference to the process environment.
type VarRef struct {
	Name string
	Pos  Pos
	// Component is the component using it; empty for the Cluster.
	Component string
}
