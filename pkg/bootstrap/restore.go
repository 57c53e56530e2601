package bootstrap

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kcloud.dev/kcloud/pkg/remote"
)

// snapshotNameRE is a snapshot's file name, as K3s and kcloud name them.
var snapshotNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// RestoreResult is what Restore did.
type RestoreResult struct {
	// Snapshot is the snapshot the cluster was restored from.
	Snapshot Snapshot
	// Plan is each server's steps, the first server first.
	Plan []NodePlan
}

// Restore puts the cluster back to a snapshot taken on the first server,
// with K3s's documented procedure (https://docs.k3s.io/cli/etcd-snapshot,
// "Restoring Snapshots"; https://docs.k3s.io/datastore/backup-restore):
// K3s is stopped on every server; on the first one, an etcd snapshot is
// restored by a cluster reset (k3s server --cluster-reset
// --cluster-reset-restore-path=FILE, which moves the old database aside to
// db/etcd-old-TIME and leaves etcd with this one member), a SQLite copy by
// putting its database directory and token back (the current directory
// moved aside); K3s starts again; then each other server's datastore is
// moved aside (K3s's procedure deletes it) and K3s starts, and the server
// rejoins the restored cluster as a new member. Agents are left running:
// they reconnect. With DryRun, Restore checks the snapshot and returns the
// steps without changing anything.
func Restore(ctx context.Context, c *Cluster, o Options, name string) (*RestoreResult, error) {
	if !snapshotNameRE.MatchString(name) {
		return nil, fmt.Errorf("snapshot %q: not a snapshot's file name (as bootstrap prints it, e.g. kcloud-v1.33.5-k3s1-to-v1.34.1-k3s1-vps-1-1764889200)", name)
	}
	if len(c.Servers()) == 0 {
		return nil, fmt.Errorf("cluster %s has no server node", c.Name)
	}
	b := newBootstrapper(c, o)
	defer b.close()
	servers := c.Servers()
	if err := b.connect(ctx, servers); err != nil {
		return nil, err
	}
	first := servers[0]
	r, p := b.runners[first.Name], b.paths(first.Name)
	ds, err := detectDatastore(ctx, r, p)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", first.Name, err)
	}
	res := &RestoreResult{Snapshot: Snapshot{Node: first.Name, Datastore: ds, Name: name, Path: path.Join(p.etcdSnapshots(), name)}}
	if ds == DatastoreSQLite {
		res.Snapshot.Path = path.Join(p.sqliteBackups(), name)
	}
	if err := b.findSnapshot(ctx, first, res.Snapshot); err != nil {
		return nil, err
	}
	res.Plan = b.restoreSteps(res.Snapshot)
	b.emit(Event{Type: EventPlan, Plan: res.Plan})
	if o.DryRun {
		return res, nil
	}
	return res, b.restore(ctx, res)
}

// findSnapshot checks that the snapshot is on the node, and lists those
// that are when it is not.
func (b *bootstrapper) findSnapshot(ctx context.Context, n Node, s Snapshot) error {
	dir := path.Dir(s.Path)
	out, err := b.runners[n.Name].Run(ctx, fmt.Sprintf("if [ -e %s ]; then echo found; else ls -1 %s 2>/dev/null | grep '^[A-Za-z0-9]' || true; fi",
		remote.Quote(s.Path), remote.Quote(dir)), nil)
	if err != nil {
		return fmt.Errorf("node %s: look for snapshot %s: %w", n.Name, s.Name, err)
	}
	got := strings.TrimSpace(string(out))
	if got == "found" {
		return nil
	}
	if got == "" {
		got = "none"
	}
	return fmt.Errorf("node %s: no snapshot %s in %s; there: %s", n.Name, s.Name, dir, strings.ReplaceAll(got, "\n", ", "))
}

// restoreSteps are the restore's steps on each server.
func (b *bootstrapper) restoreSteps(s Snapshot) []NodePlan {
	var plan []NodePlan
	for i, n := range b.cluster.Servers() {
		p := b.paths(n.Name)
		np := NodePlan{Node: n, Steps: []Step{{Kind: StepStop}}}
		switch {
		case i == 0 && s.Datastore == DatastoreEtcd:
			np.Steps = append(np.Steps, Step{Kind: StepReset, Detail: "k3s server --cluster-reset --cluster-reset-restore-path=" + s.Path})
		case i == 0:
			np.Steps = append(np.Steps, Step{Kind: StepMoveAside, Detail: p.dbDir() + " → " + p.dbDir() + "-before-restore-TIME; put back " + s.Path + "/db and its token"})
		default:
			np.Steps = append(np.Steps, Step{Kind: StepMoveAside, Detail: p.dbDir() + " → " + p.dbDir() + "-before-restore-TIME, to rejoin as a new etcd member"})
		}
		np.Steps = append(np.Steps, Step{Kind: StepStart}, Step{Kind: StepWaitReady})
		plan = append(plan, np)
	}
	return plan
}

// restore runs the steps: K3s stops on every server, the first server is
// restored and started, then the others rejoin.
func (b *bootstrapper) restore(ctx context.Context, res *RestoreResult) error {
	run := func(np *NodePlan, kind StepKind, cmd string) error {
		if _, err := b.runners[np.Node.Name].Run(ctx, cmd, nil); err != nil {
			return b.failed(*np, fmt.Errorf("node %s: restore: %s: %w", np.Node.Name, kind, err))
		}
		b.emit(Event{Type: EventStep, Node: *np, Step: Step{Kind: kind}})
		return nil
	}
	for i := range res.Plan {
		np := &res.Plan[i]
		b.emit(Event{Type: EventStarted, Node: *np})
		if err := run(np, StepStop, serviceCmd(b.paths(np.Node.Name), "stop", "k3s")); err != nil {
			return err
		}
	}
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	for i := range res.Plan {
		np := &res.Plan[i]
		p := b.paths(np.Node.Name)
		aside := fmt.Sprintf("if [ -e %s ]; then mv %s %s; fi", remote.Quote(p.dbDir()), remote.Quote(p.dbDir()), remote.Quote(p.dbDir()+"-before-restore-"+stamp))
		kind, cmd := StepMoveAside, aside
		switch {
		case i == 0 && res.Snapshot.Datastore == DatastoreEtcd:
			args := append(b.cluster.execArgs(np.Node, p), "--cluster-reset", "--cluster-reset-restore-path="+res.Snapshot.Path)
			kind, cmd = StepReset, remote.Quote(p.k3s())+" "+execString(args)
		case i == 0:
			snap := res.Snapshot.Path
			cmd = fmt.Sprintf("set -e; %s; cp -a %s %s; cp -a %s %s", aside, remote.Quote(snap+"/db"), remote.Quote(p.dbDir()),
				remote.Quote(snap+"/token"), remote.Quote(p.serverToken()))
		}
		if err := run(np, kind, cmd); err != nil {
			return err
		}
		if err := run(np, StepStart, serviceCmd(p, "start", "k3s")); err != nil {
			return err
		}
		if err := b.waitReady(ctx, np); err != nil {
			return b.failed(*np, err)
		}
		b.emit(Event{Type: EventDone, Node: *np})
	}
	return nil
}
