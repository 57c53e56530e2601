package bootstrap

import (
	"path"

	"kcloud.dev/kcloud/pkg/spec"
)

// Paths are where K3s and kcloud keep their files on a node. Production
// uses DefaultPaths; tests that run several stand-in nodes on one machine
// move each node's files under its own directory, which bootstrap hands to
// the installer with K3s's own knobs (INSTALL_K3S_BIN_DIR, --data-dir,
// --write-kubeconfig).
type Paths struct {
	// BinDir holds the k3s binary.
	BinDir string
	// DataDir is K3s's data directory; the join token is in
	// DataDir/server/node-token.
	DataDir string
	// Kubeconfig is K3s's admin kubeconfig.
	Kubeconfig string
	// StateDir is kcloud's own directory: its record of what it installed,
	// the installer and the join token.
	StateDir string
}

// DefaultPaths are the places K3s's installer uses.
func DefaultPaths() Paths {
	return Paths{
		BinDir:     "/usr/local/bin",
		DataDir:    "/var/lib/rancher/k3s",
		Kubeconfig: "/etc/rancher/k3s/k3s.yaml",
		StateDir:   "/var/lib/kcloud",
	}
}

// Under returns p with every path moved under root.
func (p Paths) Under(root string) Paths {
	return Paths{
		BinDir:     path.Join(root, p.BinDir),
		DataDir:    path.Join(root, p.DataDir),
		Kubeconfig: path.Join(root, p.Kubeconfig),
		StateDir:   path.Join(root, p.StateDir),
	}
}

func (p Paths) k3s() string       { return path.Join(p.BinDir, "k3s") }
func (p Paths) nodeToken() string { return path.Join(p.DataDir, "server", "node-token") }
func (p Paths) record() string    { return path.Join(p.StateDir, "k3s.json") }
func (p Paths) installer() string { return path.Join(p.StateDir, "install-k3s.sh") }
func (p Paths) token() string     { return path.Join(p.StateDir, "token") }

// uninstaller is K3s's own uninstall script, which its installer writes
// next to k3s: k3s-uninstall.sh on a server, k3s-agent-uninstall.sh on an
// agent (UNINSTALL_K3S_SH=${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh in
// https://github.com/k3s-io/k3s/blob/v1.33.5+k3s1/install.sh).
func (p Paths) uninstaller(role string) string {
	if role == spec.RoleAgent {
		return path.Join(p.BinDir, "k3s-agent-uninstall.sh")
	}
	return path.Join(p.BinDir, "k3s-uninstall.sh")
}

// The datastore's places, as K3s keeps them: the database directory
// (SQLite's state.db, or embedded etcd's etcd/), the token that encrypts
// what is in it, and the etcd snapshots
// (https://docs.k3s.io/datastore/backup-restore,
// https://docs.k3s.io/cli/etcd-snapshot).
func (p Paths) dbDir() string         { return path.Join(p.DataDir, "server", "db") }
func (p Paths) etcdDir() string       { return path.Join(p.dbDir(), "etcd") }
func (p Paths) serverToken() string   { return path.Join(p.DataDir, "server", "token") }
func (p Paths) etcdSnapshots() string { return path.Join(p.dbDir(), "snapshots") }

// sqliteBackups is where kcloud keeps its copies of a SQLite datastore:
// K3s has no command for them.
func (p Paths) sqliteBackups() string { return path.Join(p.StateDir, "snapshots") }

// members is kcloud's record, on the servers, of the nodes it joined and
// how to reach them: a node that leaves the spec is found there.
func (p Paths) members() string { return path.Join(p.StateDir, "nodes.json") }
