package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"kcloud.dev/kcloud/pkg/remote"
	"kcloud.dev/kcloud/pkg/spec"
)

// DefaultInstallerURL is where nodes fetch the K3s installer.
const DefaultInstallerURL = "https://get.k3s.io"

// apiPort is the K3s supervisor and API server port joining nodes dial.
const apiPort = "6443"

// serverURL is the address nodes join: the first server's.
func (c *Cluster) serverURL() string {
	return "https://" + net.JoinHostPort(c.Servers()[0].Target.Host, apiPort)
}

// execArgs are the K3s command and flags for n (INSTALL_K3S_EXEC). The node
// name is the spec's, so readiness can be asked by name.
func (c *Cluster) execArgs(n Node, p Paths) []string {
	servers := c.Servers()
	var args []string
	if n.Role == spec.RoleAgent {
		args = []string{"agent", "--node-name", n.Name}
	} else {
		args = []string{"server"}
		switch {
		case n.Name != servers[0].Name:
			args = append(args, "--server", c.serverURL())
		case len(servers) > 1:
			args = append(args, "--cluster-init")
		}
		args = append(args, "--node-name", n.Name, "--tls-san", c.APIEndpoint)
		if c.StoragePath != "" {
			args = append(args, "--default-local-storage-path", c.StoragePath)
		}
		for _, d := range c.Disable {
			args = append(args, "--disable", d)
		}
	}
	def := DefaultPaths()
	if p.DataDir != def.DataDir {
		args = append(args, "--data-dir", p.DataDir)
	}
	if n.Role != spec.RoleAgent && p.Kubeconfig != def.Kubeconfig {
		args = append(args, "--write-kubeconfig", p.Kubeconfig)
	}
	return args
}

// execString joins K3s's arguments into INSTALL_K3S_EXEC. The installer
// re-evaluates it as shell words (eval set -- $(escape
// "${INSTALL_K3S_EXEC}") in https://github.com/k3s-io/k3s/blob/master/install.sh),
// so each argument is quoted; the values are validated too (FromSpec),
// since the installer's escape adds backslashes inside quotes.
func execString(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = remote.Quote(a)
	}
	return strings.Join(quoted, " ")
}

// fetchInstallerCmd has the node download the official installer.
func fetchInstallerCmd(url string, p Paths) string {
	dst := remote.Quote(p.installer())
	return fmt.Sprintf("umask 077 && mkdir -p %s && if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o %s %s; else wget -qO %s %s; fi",
		remote.Quote(p.StateDir), dst, remote.Quote(url), dst, remote.Quote(url))
}

// installCmd runs the installer with the variables it reads. The token
// travels as the path of a 0600 file, never as a value.
func (c *Cluster) installCmd(n Node, p Paths, exec string, joins bool) string {
	var env []string
	set := func(k, v string) { env = append(env, k+"="+remote.Quote(v)) }
	if c.Version != "" {
		set("INSTALL_K3S_VERSION", c.Version)
	} else {
		set("INSTALL_K3S_CHANNEL", c.Channel)
	}
	if p.BinDir != DefaultPaths().BinDir {
		set("INSTALL_K3S_BIN_DIR", p.BinDir)
	}
	set("INSTALL_K3S_EXEC", exec)
	if n.Role == spec.RoleAgent {
		set("K3S_URL", c.serverURL())
	}
	if joins {
		set("K3S_TOKEN_FILE", p.token())
	}
	return strings.Join(env, " ") + " sh " + remote.Quote(p.installer())
}

// install puts the installer on the node, the token next to it when the
// node joins, and runs it.
func (b *bootstrapper) install(ctx context.Context, np *NodePlan, token string) error {
	n, r, p := np.Node, b.runners[np.Node.Name], b.paths(np.Node.Name)
	if b.opts.Installer != nil {
		b.emit(Event{Type: EventUploading, Node: *np})
		if err := r.Copy(ctx, bytes.NewReader(b.opts.Installer), p.installer(), 0o700); err != nil {
			return err
		}
	} else {
		b.emit(Event{Type: EventDownloading, Node: *np, URL: b.opts.InstallerURL})
		if _, err := r.Run(ctx, fetchInstallerCmd(b.opts.InstallerURL, p), nil); err != nil {
			return err
		}
	}
	joins := token != ""
	if joins {
		if err := r.Copy(ctx, strings.NewReader(token+"\n"), p.token(), 0o600); err != nil {
			return err
		}
	}
	b.emit(Event{Type: EventInstalling, Node: *np})
	if _, err := r.Run(ctx, b.cluster.installCmd(n, p, np.Exec, joins), nil); err != nil {
		return err
	}
	st, err := probe(ctx, r, p)
	if err != nil {
		return err
	}
	if st.version == "" {
		return fmt.Errorf("node %s: the installer finished but %s is missing", n.Name, p.k3s())
	}
	if b.cluster.Version != "" && st.version != b.cluster.Version {
		return fmt.Errorf("node %s: the installer finished but K3s reports %s, not %s", n.Name, st.version, b.cluster.Version)
	}
	np.Current = st.version
	return nil
}

// writeRecord notes on the node what is installed, once it is Ready.
func (b *bootstrapper) writeRecord(ctx context.Context, np *NodePlan) error {
	return b.putRecord(ctx, np.Node.Name, record{Version: np.Current, Channel: b.cluster.Channel, Exec: np.Exec, Cordoned: np.Cordoned})
}

// putRecord writes kcloud's record on node.
func (b *bootstrapper) putRecord(ctx context.Context, node string, rec record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.runners[node].Copy(ctx, bytes.NewReader(append(data, '\n')), b.paths(node).record(), 0o600)
}

// joinToken reads the token nodes join with from the first server.
func (b *bootstrapper) joinToken(ctx context.Context) (string, error) {
	first := b.cluster.Servers()[0]
	out, err := b.runners[first.Name].Run(ctx, "cat "+remote.Quote(b.paths(first.Name).nodeToken()), nil)
	if err != nil {
		return "", fmt.Errorf("read the join token from %s: %w", first.Name, err)
	}
	token := strings.TrimSpace(string(out))
	if token == "" {
		return "", fmt.Errorf("read the join token from %s: %s is empty", first.Name, b.paths(first.Name).nodeToken())
	}
	return token, nil
}
