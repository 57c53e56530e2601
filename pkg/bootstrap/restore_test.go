package bootstrap_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/bootstrap"
)

// restore runs bootstrap.Restore and collects its events.
func (f *fixture) restore(t *testing.T, o bootstrap.Options, name string) (*bootstrap.RestoreResult, []bootstrap.Event, error) {
	t.Helper()
	var (
		mu     sync.Mutex
		events []bootstrap.Event
	)
	o.OnEvent = func(ev bootstrap.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev)
	}
	res, err := bootstrap.Restore(context.Background(), f.cluster, o, name)
	return res, events, err
}

// stepKinds summarises plans as "node kind" lines.
func stepKinds(plan []bootstrap.NodePlan) []string {
	var out []string
	for _, np := range plan {
		for _, s := range np.Steps {
			out = append(out, np.Node.Name+" "+string(s.Kind))
		}
	}
	return out
}

func TestRestoreEtcd(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server}, node{"vps-2", server}, node{"worker-1", agent})
	f.cluster.Version = v134
	up := f.run(t, o)
	if up.err != nil {
		t.Fatal(up.err)
	}
	name := up.res.Snapshot.Name

	// Names that are no snapshot are refused before anything runs.
	for _, bad := range []string{"../etc/passwd", "kcloud-none"} {
		if _, _, err := f.restore(t, o, bad); err == nil {
			t.Errorf("restore %q succeeded", bad)
		} else if bad == "kcloud-none" && !strings.Contains(err.Error(), "there: "+name) {
			t.Errorf("the error does not list the snapshots there: %v", err)
		}
	}
	before := len(f.k3s.Events(t))
	dry := o
	dry.DryRun = true
	res, _, err := f.restore(t, dry, name)
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, "dry run's steps", []string{
		"vps-1 stop K3s", "vps-1 cluster reset", "vps-1 start K3s", "vps-1 wait Ready",
		"vps-2 stop K3s", "vps-2 move datastore aside", "vps-2 start K3s", "vps-2 wait Ready",
	}, withoutPrefix(prefix, stepKinds(res.Plan)))
	diffLines(t, "what a dry run did", nil, f.since(t, prefix, before))

	if _, _, err := f.restore(t, o, name); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "what the restore did", []string{
		"service vps-1 stop k3s", "service vps-2 stop k3s",
		"reset vps-1 " + regexp.MustCompile(`-[0-9]{10}$`).ReplaceAllString(strings.ReplaceAll(name, prefix, ""), "-TIME"),
		"service vps-1 start k3s", "service vps-2 start k3s",
	}, f.since(t, prefix, before))
	aside, err := filepath.Glob(filepath.Join(f.root(prefix+"vps-2").DataDir, "server", "db-before-restore-*"))
	if err != nil || len(aside) != 1 {
		t.Errorf("vps-2's datastore moved aside to %v (%v), want one directory", aside, err)
	}
}

func TestRestoreSQLite(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server})
	f.cluster.Disable = []string{"traefik"}
	up := f.run(t, o)
	if up.err != nil {
		t.Fatal(up.err)
	}
	p := f.root(prefix + "vps-1")
	db := filepath.Join(p.DataDir, "server", "db", "state.db")
	want, _ := testenv.ReadNodeFile(t, db)
	r, err := remoteDial(f, f.sshd[prefix+"vps-1"])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Run(context.Background(), "echo changed since >"+db, nil); err != nil {
		t.Fatal(err)
	}
	before := len(f.k3s.Events(t))
	if _, _, err := f.restore(t, o, up.res.Snapshot.Name); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "what the restore did", []string{"service vps-1 stop k3s", "service vps-1 start k3s"}, f.since(t, prefix, before))
	got, _ := testenv.ReadNodeFile(t, db)
	diffLines(t, "the database", []string{string(want)}, []string{string(got)})
	if _, ok := testenv.ReadNodeFile(t, filepath.Join(p.DataDir, "server", "token")); !ok {
		t.Error("no token after the restore")
	}
}

func TestDryRunShowsEveryStep(t *testing.T) {
	t.Parallel()
	f, prefix, o := day2(t, node{"vps-1", server}, node{"vps-2", server}, node{"worker-1", agent})
	f.proxy.Reset()
	before := len(f.k3s.Events(t))
	f.cluster.Version = v134
	o.DryRun = true
	r := f.run(t, o)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var want []string
	for _, n := range []string{"vps-1", "vps-2", "worker-1"} {
		want = append(want, n+" cordon", n+" drain", n+" upgrade", n+" wait Ready", n+" uncordon")
	}
	diffLines(t, "steps", append([]string{"vps-1 snapshot"}, want...), withoutPrefix(prefix, stepKinds(r.res.Plan)))
	if got := r.res.Plan[0].Steps[0].Detail; got != "k3s etcd-snapshot save --name kcloud-v1.33.5-k3s1-to-v1.34.1-k3s1" {
		t.Errorf("snapshot step %q", got)
	}
	diffLines(t, "what a dry run did", nil, f.since(t, prefix, before))
	if n := f.proxy.Writes(); n != 0 {
		t.Errorf("%d write(s) reached the API server", n)
	}
}
