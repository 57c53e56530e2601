package bootstrap

import (
	"errors"
	"fmt"

	"kcloud.dev/kcloud/pkg/remote"
	"kcloud.dev/kcloud/pkg/spec"
)

// Cluster is what bootstrap makes true: the Cluster spec with every ${NAME}
// expanded and every default applied.
type Cluster struct {
	Name string
	// Channel or Version selects the K3s release; exactly one is set.
	Channel string
	Version string
	// Disable lists the K3s components to turn off.
	Disable []string
	// APIEndpoint is the API server's TLS SAN and the kubeconfig's server
	// host: the spec's apiEndpoint, or the first server's host.
	APIEndpoint string
	// StoragePath is K3s's --default-local-storage-path.
	StoragePath string
	// SnapshotRetain is how many of its snapshots bootstrap keeps on the
	// first server; 5 when zero.
	SnapshotRetain int
	// Nodes are in spec order; the first server initialises the cluster.
	Nodes []Node
}

// Node is one machine and how to reach it.
type Node struct {
	Name string
	// Role is spec.RoleServer or spec.RoleAgent.
	Role   string
	Target remote.Target
}

// Servers returns the server nodes in spec order.
func (c *Cluster) Servers() []Node { return c.withRole(spec.RoleServer) }

// Agents returns the agent nodes in spec order.
func (c *Cluster) Agents() []Node { return c.withRole(spec.RoleAgent) }

func (c *Cluster) withRole(role string) []Node {
	var out []Node
	for _, n := range c.Nodes {
		if n.Role == role {
			out = append(out, n)
		}
	}
	return out
}

// FromSpec expands the ${NAME} references of the Cluster's node fields and
// apiEndpoint with lookup. Every reference lookup cannot resolve is an
// error naming file:line:col.
func FromSpec(sc *spec.Cluster, lookup func(string) (string, bool)) (*Cluster, error) {
	var errs []error
	expand := func(s string, p spec.Pos, what string) string {
		out, missing := spec.Expand(s, lookup)
		for _, name := range missing {
			errs = append(errs, fmt.Errorf("%s: %s: ${%s} is not set in the environment", p, what, name))
		}
		return out
	}
	c := &Cluster{
		Name:        sc.Name,
		Channel:     sc.K3s.Channel,
		Version:     sc.K3s.Version,
		Disable:     sc.K3s.Disable,
		StoragePath: sc.StoragePath,

		SnapshotRetain: sc.K3s.SnapshotRetain,
	}
	for _, n := range sc.Nodes {
		name := expand(n.Name, n.Pos, "node name")
		node := Node{
			Name: name,
			Role: n.Role,
			Target: remote.Target{
				User:    expand(n.User, n.Pos, "node "+name+" user"),
				Host:    expand(n.Host, n.HostPos, "node "+name+" host"),
				Port:    n.Port,
				HostKey: n.HostKey,
			},
		}
		if node.Role == "" {
			node.Role = spec.RoleServer
		}
		if node.Target.User == "" {
			node.Target.User = "root"
		}
		if node.Target.Port == 0 {
			node.Target.Port = 22
		}
		c.Nodes = append(c.Nodes, node)
	}
	c.APIEndpoint = expand(sc.APIEndpoint, sc.APIEndpointPos, "apiEndpoint")
	for _, d := range sc.ExpandedDiagnostics(lookup) {
		errs = append(errs, fmt.Errorf("%s: %s", d.Pos, d.Message))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	servers := c.Servers()
	if len(servers) == 0 {
		return nil, fmt.Errorf("%s: cluster %s has no server node", sc.Pos, sc.Name)
	}
	if c.APIEndpoint == "" {
		c.APIEndpoint = servers[0].Target.Host
	}
	return c, nil
}
