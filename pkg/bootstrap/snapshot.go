package bootstrap

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"kcloud.dev/kcloud/pkg/remote"
)

// Datastore is how a K3s server keeps the cluster's state.
type Datastore string

// The datastores bootstrap can snapshot.
const (
	// DatastoreEtcd is embedded etcd (--cluster-init, several servers).
	DatastoreEtcd Datastore = "etcd"
	// DatastoreSQLite is the single server's SQLite database.
	DatastoreSQLite Datastore = "sqlite"
)

// Snapshot is a copy of the datastore taken before a change.
type Snapshot struct {
	// Node is the server it is on (the first one).
	Node      string
	Datastore Datastore
	// Name is what restore takes (--snapshot NAME); Path is where it is on
	// the node.
	Name, Path string
}

// snapshotPrefix starts the name of every snapshot kcloud takes: the
// retention count applies to these and to no other.
const snapshotPrefix = "kcloud-"

// snapshotName says kcloud, the versions and what the snapshot comes
// before; K3s (and kcloud, for SQLite) appends the node and the time.
func snapshotName(from, to string) string {
	clean := func(v string) string { return strings.ReplaceAll(v, "+", "-") }
	if to == "" || to == from {
		return snapshotPrefix + clean(from)
	}
	return snapshotPrefix + clean(from) + "-to-" + clean(to)
}

// detectDatastore asks the first server which datastore it runs: embedded
// etcd keeps server/db/etcd, SQLite server/db/state.db
// (https://docs.k3s.io/datastore/backup-restore; DBDir/etcd in
// https://github.com/k3s-io/k3s/blob/v1.33.5+k3s1/pkg/etcd/etcd.go).
func detectDatastore(ctx context.Context, r remote.Runner, p Paths) (Datastore, error) {
	cmd := fmt.Sprintf("if [ -d %s ]; then echo etcd; elif [ -f %s ]; then echo sqlite; fi",
		remote.Quote(p.etcdDir()), remote.Quote(path.Join(p.dbDir(), "state.db")))
	out, err := r.Run(ctx, cmd, nil)
	if err != nil {
		return "", fmt.Errorf("find the datastore: %w", err)
	}
	switch d := Datastore(strings.TrimSpace(string(out))); d {
	case DatastoreEtcd, DatastoreSQLite:
		return d, nil
	}
	return "", fmt.Errorf("find the datastore: neither %s nor %s/state.db exists (an external datastore is backed up outside K3s)", p.etcdDir(), p.dbDir())
}

// dataDirFlag passes a data directory other than K3s's default.
func dataDirFlag(p Paths) string {
	if p.DataDir == DefaultPaths().DataDir {
		return ""
	}
	return " --data-dir " + remote.Quote(p.DataDir)
}

// etcdSnapshotCmd saves an on-demand snapshot, then keeps the newest keep
// of kcloud's. `k3s etcd-snapshot save --name` sets the base name, to
// which K3s appends the node name and the UNIX time, in
// ${data-dir}/server/db/snapshots; on-demand snapshots have no retention of
// their own, and `prune --name PREFIX --snapshot-retention N` keeps the N
// newest whose names start with PREFIX (https://docs.k3s.io/cli/etcd-snapshot;
// flags in https://github.com/k3s-io/k3s/blob/v1.33.5+k3s1/pkg/cli/cmds/etcd_snapshot.go,
// naming and pruning in pkg/etcd/snapshot.go). It prints the snapshot's
// path.
func etcdSnapshotCmd(p Paths, name string, keep int) string {
	k3s, dd := remote.Quote(p.k3s()), dataDirFlag(p)
	return fmt.Sprintf("set -e; %s etcd-snapshot save --name %s%s; %s etcd-snapshot prune --name %s --snapshot-retention %d%s; ls -1d %s/%s-* | tail -n 1",
		k3s, remote.Quote(name), dd, k3s, snapshotPrefix, keep, dd, remote.Quote(p.etcdSnapshots()), remote.Quote(name))
}

// serviceCmd stops or starts K3s's service with the init system its
// installer set it up with: systemd, else OpenRC; both name it k3s on a
// server and k3s-agent on an agent (SYSTEM_NAME, HAS_SYSTEMD, and
// rc-service in https://github.com/k3s-io/k3s/blob/v1.33.5+k3s1/install.sh).
// K3s's bin dir comes first on PATH, where the installer puts its tools.
func serviceCmd(p Paths, verb, service string) string {
	return fmt.Sprintf("PATH=%s:$PATH; if command -v systemctl >/dev/null 2>&1; then systemctl %s %s; elif command -v rc-service >/dev/null 2>&1; then rc-service %s %s; else echo 'neither systemd nor OpenRC runs K3s here' >&2; exit 1; fi",
		remote.Quote(p.BinDir), verb, service, service, verb)
}

// sqliteBackupCmd copies the SQLite datastore's directory and the server
// token, the documented backup (https://docs.k3s.io/datastore/backup-restore),
// with K3s stopped so the copy is consistent (SQLite's write-ahead log is
// in the same directory); K3s is started again whatever happens, and its
// pods run on meanwhile. Then it keeps the newest keep of kcloud's copies
// (by the UNIX time that ends their names) and prints the copy's path.
func sqliteBackupCmd(p Paths, dir string, keep int) string {
	dst, tmp := remote.Quote(path.Join(p.sqliteBackups(), dir)), remote.Quote(path.Join(p.sqliteBackups(), "."+dir))
	return fmt.Sprintf(`set -e; umask 077; mkdir -p %s; rm -rf %s; mkdir %s
%s
trap '%s' EXIT
cp -a %s %s/db; cp -a %s %s/token; mv %s %s
cd %s && ls -1 | grep '^%s' | awk -F- '{print $NF" "$0}' | sort -rn | awk 'NR > %d {print $2}' | while read -r old; do rm -rf "./$old"; done
echo %s`,
		remote.Quote(p.sqliteBackups()), tmp, tmp,
		serviceCmd(p, "stop", "k3s"), strings.ReplaceAll(serviceCmd(p, "start", "k3s"), "'", `'\''`),
		remote.Quote(p.dbDir()), tmp, remote.Quote(p.serverToken()), tmp, tmp, dst,
		remote.Quote(p.sqliteBackups()), snapshotPrefix, keep, dst)
}

// snapshot saves the datastore on the first server before anything
// changes. A failure stops the run: no node has changed yet.
func (b *bootstrapper) snapshot(ctx context.Context, np *NodePlan, s *Snapshot) error {
	r, p := b.runners[np.Node.Name], b.paths(np.Node.Name)
	var cmd string
	switch s.Datastore {
	case DatastoreEtcd:
		cmd = etcdSnapshotCmd(p, s.Name, b.cluster.snapshotRetain())
	default:
		s.Name += "-" + np.Node.Name + "-" + strconv.FormatInt(time.Now().Unix(), 10)
		cmd = sqliteBackupCmd(p, s.Name, b.cluster.snapshotRetain())
	}
	out, err := r.Run(ctx, cmd, nil)
	if err != nil {
		return b.failed(*np, fmt.Errorf("node %s: snapshot before the change (nothing was changed): %w", np.Node.Name, err))
	}
	s.Path = strings.TrimSpace(string(out))
	if s.Path == "" {
		return b.failed(*np, fmt.Errorf("node %s: snapshot before the change (nothing was changed): K3s saved no %s in %s", np.Node.Name, s.Name, p.etcdSnapshots()))
	}
	s.Name = path.Base(s.Path)
	b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: StepSnapshot, Detail: s.Path}})
	return nil
}

// snapshotRetain is how many of kcloud's snapshots to keep; 5, K3s's own
// --etcd-snapshot-retention default, when the spec says nothing.
func (c *Cluster) snapshotRetain() int {
	if c.SnapshotRetain > 0 {
		return c.SnapshotRetain
	}
	return 5
}
