package bootstrap_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/spec"
)

const (
	server = spec.RoleServer
	agent  = spec.RoleAgent
	v133   = "v1.33.5+k3s1"
	v134   = "v1.34.1+k3s1"
)

// day2 is a running cluster of stand-in nodes with unique names: K3s
// installed at v1.33, the Nodes registered in the test's API server, a
// namespace whose pods the test's kubelet deletes once evicted.
func day2(t *testing.T, nodes ...node) (*fixture, string, bootstrap.Options) {
	t.Helper()
	prefix, nodes := unique(nodes...)
	f := newFixture(t, nodes...)
	f.withAPI(t)
	o := f.options(t)
	o.EvictRetry = 10 * time.Millisecond
	if r := f.run(t, o); r.err != nil {
		t.Fatalf("install: %v", r.err)
	}
	f.registerNodes(t)
	f.namespace(t, prefix+"apps")
	return f, prefix, o
}

// since is what the stand-in did after the first n events, with the
// test's prefix and the snapshots' times dropped.
func (f *fixture) since(t *testing.T, prefix string, n int) []string {
	t.Helper()
	stamp := regexp.MustCompile(`-[0-9]{10}\b`)
	var out []string
	for _, e := range f.k3s.Events(t)[n:] {
		out = append(out, stamp.ReplaceAllString(strings.ReplaceAll(e, prefix, ""), "-TIME"))
	}
	return out
}

func TestUpgradeOneNodeAtATime(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server}, node{"vps-2", server}, node{"worker-1", agent})
	ns := prefix + "apps"
	for _, n := range f.names() {
		f.pod(t, ns, n+"-web", n, "ReplicaSet", nil)
		f.pod(t, ns, n+"-logs", n, "DaemonSet", nil)
	}
	before := len(f.k3s.Events(t))
	f.cluster.Version = v134
	r := f.run(t, o)
	if r.err != nil {
		t.Fatal(r.err)
	}
	// The snapshot before anything changes; then each node in turn,
	// servers first, the first server first.
	var want []string
	for _, n := range []string{"vps-1", "vps-2", "worker-1"} {
		want = append(want, n+" cordon", n+" drain", n+" drain", n+" upgrade", n+" uncordon")
	}
	diffLines(t, "steps", append([]string{"vps-1 snapshot"}, want...), withoutPrefix(prefix, steps(r.events)))
	diffLines(t, "what the stand-in did", []string{
		"snapshot vps-1 kcloud-v1.33.5-k3s1-to-v1.34.1-k3s1-vps-1-TIME",
		"install vps-1 server " + v134, "install vps-2 server " + v134, "install worker-1 agent " + v134,
	}, f.since(t, prefix, before))
	if r.res.Snapshot == nil || r.res.Snapshot.Datastore != bootstrap.DatastoreEtcd {
		t.Fatalf("snapshot %+v, want an etcd snapshot", r.res.Snapshot)
	}
	snapDir := filepath.Join(f.root(prefix+"vps-1").DataDir, "server", "db", "snapshots")
	if dir := filepath.Dir(r.res.Snapshot.Path); dir != snapDir {
		t.Errorf("snapshot saved in %s, want %s", dir, snapDir)
	}
	if _, ok := testenv.ReadNodeFile(t, r.res.Snapshot.Path); !ok {
		t.Errorf("no snapshot at %s", r.res.Snapshot.Path)
	}
	// The ReplicaSets' pods were evicted; the DaemonSets' stay.
	for _, n := range f.names() {
		diffLines(t, n+"'s pods", []string{n + "-logs"}, f.podsOn(t, ns, n))
	}
	diffLines(t, "cordoned nodes", nil, f.unschedulable(t, f.names()...))
	// Once done, nothing more to do, nothing cordoned.
	again := f.run(t, o)
	if again.err != nil {
		t.Fatal(again.err)
	}
	diffLines(t, "second run's steps", nil, steps(again.events))
}

func TestSnapshotFailureChangesNothing(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server}, node{"vps-2", server}, node{"worker-1", agent})
	f.k3s.FailSnapshots(t)
	f.proxy.Reset()
	before := len(f.k3s.Events(t))
	f.cluster.Version = v134
	r := f.run(t, o)
	if r.err == nil {
		t.Fatal("the upgrade went on without its snapshot")
	}
	for _, part := range []string{"node " + prefix + "vps-1: snapshot before the change (nothing was changed)", "stand-in fault"} {
		if !strings.Contains(r.err.Error(), part) {
			t.Errorf("error lacks %q:\n%v", part, r.err)
		}
	}
	diffLines(t, "what the stand-in did", nil, f.since(t, prefix, before))
	if n := f.proxy.Writes(); n != 0 {
		t.Errorf("%d write(s) reached the API server", n)
	}
	diffLines(t, "cordoned nodes", nil, f.unschedulable(t, f.names()...))
	f.k3s.HealSnapshots(t)
	if r := f.run(t, o); r.err != nil {
		t.Fatalf("rerun: %v", r.err)
	}
}

func TestSnapshotRetention(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server})
	f.cluster.SnapshotRetain = 2
	// Three changes to the running server, three snapshots of SQLite.
	var names []string
	for _, d := range []string{"traefik", "metrics-server", "coredns"} {
		f.cluster.Disable = []string{d}
		r := f.run(t, o)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.res.Snapshot == nil || r.res.Snapshot.Datastore != bootstrap.DatastoreSQLite {
			t.Fatalf("snapshot %+v, want a SQLite copy", r.res.Snapshot)
		}
		names = append(names, r.res.Snapshot.Name)
		db, ok := testenv.ReadNodeFile(t, filepath.Join(r.res.Snapshot.Path, "db", "state.db"))
		if !ok || !strings.Contains(string(db), "sqlite state of "+prefix+"vps-1") {
			t.Errorf("the copy's database is %q", db)
		}
	}
	dir := filepath.Join(f.root(prefix+"vps-1").StateDir, "snapshots")
	for i, n := range names {
		_, ok := testenv.ReadNodeFile(t, filepath.Join(dir, n, "token"))
		if want := i > 0; ok != want {
			t.Errorf("snapshot %s kept: %v, want %v", n, ok, want)
		}
	}
	// K3s was stopped for each copy, and started again.
	var service []string
	for _, e := range f.k3s.Events(t) {
		if strings.HasPrefix(e, "service ") {
			service = append(service, strings.ReplaceAll(e, prefix, ""))
		}
	}
	diffLines(t, "service calls", []string{"service vps-1 stop k3s", "service vps-1 start k3s", "service vps-1 stop k3s", "service vps-1 start k3s", "service vps-1 stop k3s", "service vps-1 start k3s"}, service)
}

func TestSkewRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		from, to  string
		agentFrom string // the agent's version when it differs from the servers'
		want      string
	}{
		{name: "skips a minor", from: "v1.32.9+k3s1", to: v134,
			want: "node SERVER: refusing v1.32.9+k3s1 → v1.34.1+k3s1: Kubernetes upgrades one minor version at a time: upgrade through v1.33 first"},
		{name: "downgrade", from: v134, to: v133,
			want: "node SERVER: refusing v1.34.1+k3s1 → v1.33.5+k3s1: Kubernetes does not support downgrades"},
		{name: "agent newer than the servers", from: v133, to: v133, agentFrom: v134,
			want: "node AGENT: refusing v1.34.1+k3s1 → v1.33.5+k3s1: the agent would be newer than the servers at v1.33.5+k3s1, and a kubelet must never be newer than the API server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix, nodes := unique(node{"vps-1", server}, node{"worker-1", agent})
			f := newFixture(t, nodes...)
			f.withAPI(t)
			o := f.options(t)
			f.cluster.Version = tc.from
			if r := f.run(t, o); r.err != nil {
				t.Fatal(r.err)
			}
			if tc.agentFrom != "" {
				f.installBehindKcloud(t, prefix+"worker-1", tc.agentFrom)
			}
			before := len(f.k3s.Events(t))
			f.proxy.Reset()
			f.cluster.Version = tc.to
			r := f.run(t, o)
			var se *bootstrap.SkewError
			if !errors.As(r.err, &se) {
				t.Fatalf("got %v, want a *SkewError", r.err)
			}
			want := strings.NewReplacer("SERVER", prefix+"vps-1", "AGENT", prefix+"worker-1").Replace(tc.want)
			if !strings.HasPrefix(r.err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to start with:\n%s", r.err, want)
			}
			diffLines(t, "what the stand-in did", nil, f.since(t, prefix, before))
			if n := f.proxy.Writes(); n != 0 {
				t.Errorf("%d write(s) reached the API server", n)
			}
		})
	}
}

// installBehindKcloud reinstalls node's K3s at version through its sshd, as
// someone upgrading it by hand would: the same installer and flags.
func (f *fixture) installBehindKcloud(t *testing.T, name, version string) {
	t.Helper()
	p := f.root(name)
	rec, ok := testenv.ReadNodeFile(t, filepath.Join(p.StateDir, "k3s.json"))
	if !ok {
		t.Fatalf("%s has no record", name)
	}
	exec := regexp.MustCompile(`"exec":"([^"]*)"`).FindStringSubmatch(string(rec))[1]
	s := f.sshd[name]
	r, err := remoteDial(f, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := "INSTALL_K3S_VERSION=" + version + " INSTALL_K3S_BIN_DIR=" + p.BinDir + " INSTALL_K3S_EXEC='" + exec +
		"' K3S_URL=https://127.0.0.1:6443 K3S_TOKEN_FILE=" + filepath.Join(p.StateDir, "token") + " sh " + filepath.Join(p.StateDir, "install-k3s.sh")
	if _, err := r.Run(context.Background(), cmd, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDrainWaitsForThePodDisruptionBudget(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server}, node{"worker-1", agent}, node{"worker-2", agent})
	ns, w1 := prefix+"apps", prefix+"worker-1"
	f.pod(t, ns, "db-0", w1, "ReplicaSet", map[string]string{"app": "db"})
	f.pdb(t, ns, "db", 0)
	// The disruption controller allows one disruption once the drain has
	// been refused twice.
	var evictions atomic.Int32
	f.proxy.OnRequest(testenv.Hook{Verbs: []string{testenv.VerbCreate}, Path: "/eviction", Match: func(*http.Request) bool {
		evictions.Add(1)
		return false
	}})
	f.proxy.OnRequest(testenv.Hook{Verbs: []string{testenv.VerbCreate}, Path: "/eviction", N: 2, After: true, Func: func(*http.Request) {
		pdb, err := f.cs.PolicyV1().PodDisruptionBudgets(ns).Get(context.Background(), "db", metav1.GetOptions{})
		if err == nil {
			f.allow(t, pdb, 1)
		}
	}})
	f.cluster.Version = v134
	r := f.run(t, o)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := evictions.Load(); n < 3 {
		t.Errorf("%d eviction request(s), want the refused ones and the one allowed", n)
	}
	diffLines(t, "worker-1's pods", nil, f.podsOn(t, ns, w1))
	diffLines(t, "cordoned nodes", nil, f.unschedulable(t, f.names()...))
}

func TestDrainTimeoutLeavesTheNodeCordoned(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server}, node{"worker-1", agent}, node{"worker-2", agent})
	ns, w1 := prefix+"apps", prefix+"worker-1"
	f.pod(t, ns, "db-0", w1, "ReplicaSet", map[string]string{"app": "db"})
	f.pdb(t, ns, "db", 0)
	o.DrainTimeout = time.Second
	f.cluster.Version = v134
	r := f.run(t, o)
	var de *bootstrap.DrainError
	if !errors.As(r.err, &de) {
		t.Fatalf("got %v, want a *DrainError", r.err)
	}
	for _, part := range []string{"node " + w1 + ": drain: ", "global timeout reached: 1s", "the node stays cordoned", "rerun bootstrap"} {
		if !strings.Contains(r.err.Error(), part) {
			t.Errorf("error lacks %q:\n%v", part, r.err)
		}
	}
	diffLines(t, "cordoned nodes", []string{w1}, f.unschedulable(t, f.names()...))
	// worker-1 was not upgraded, and nothing after it was touched.
	ins := f.k3s.Installs(t)
	if last := ins[len(ins)-1]; last.Node != prefix+"vps-1" || last.Version != v134 {
		t.Errorf("last install %s %s, want the server's upgrade only", last.Node, last.Version)
	}
	// Once the budget allows it, a rerun continues and uncordons.
	pdb, err := f.cs.PolicyV1().PodDisruptionBudgets(ns).Get(context.Background(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.allow(t, pdb, 1)
	o.DrainTimeout = time.Minute // kubectl's drain looks for the evicted pod's end once a second
	again := f.run(t, o)
	if again.err != nil {
		t.Fatal(again.err)
	}
	diffLines(t, "cordoned nodes after the rerun", nil, f.unschedulable(t, f.names()...))
}

func TestSSHDroppedMidDrain(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server}, node{"vps-2", server}, node{"worker-1", agent})
	ns, w1 := prefix+"apps", prefix+"worker-1"
	f.pod(t, ns, "web-0", w1, "ReplicaSet", nil)
	// The first server's SSH connection, which carries the API traffic,
	// drops as worker-1's first eviction goes out.
	// Every eviction that reaches the proxy drops what is connected then
	// and reports how many connections that was; a later one (a retry)
	// finds nothing to drop.
	drops := make(chan int, 1)
	f.proxy.OnRequest(testenv.Hook{Verbs: []string{testenv.VerbCreate}, Path: "/eviction", Func: func(*http.Request) {
		select {
		case drops <- f.sshd[prefix+"vps-1"].DropConnections(t):
		default: // the first eviction's count is the one read
		}
	}})
	f.cluster.Version = v134
	r := f.run(t, o)
	if r.err == nil {
		t.Fatal("the run survived its connection")
	}
	t.Logf("error: %v", r.err)
	// The run can end on the first dropped connection while the hook is
	// still dropping the others: wait for its count.
	select {
	case n := <-drops:
		if n == 0 {
			t.Fatal("no connection was dropped")
		}
	case <-time.After(time.Minute):
		t.Fatal("no eviction reached the proxy")
	}
	if !strings.Contains(r.err.Error(), "node "+w1+": drain: ") {
		t.Errorf("error does not say the drain failed:\n%v", r.err)
	}
	diffLines(t, "cordoned nodes", []string{w1}, f.unschedulable(t, f.names()...))
	again := f.run(t, o)
	if again.err != nil {
		t.Fatal(again.err)
	}
	diffLines(t, "cordoned nodes after the rerun", nil, f.unschedulable(t, f.names()...))
	for _, np := range again.res.Plan {
		if np.Current != v134 || np.Cordoned {
			t.Errorf("%s: K3s %s, cordoned %v; want %s, uncordoned", np.Node.Name, np.Current, np.Cordoned, v134)
		}
	}
	diffLines(t, "worker-1's pods", nil, f.podsOn(t, ns, w1))
}
