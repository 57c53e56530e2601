package bootstrap_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/remote"
	"kcloud.dev/kcloud/pkg/spec"
)

// fixture is a cluster of stand-in nodes: one real sshd per node, all on
// this machine, each with its K3s files under its own root.
type fixture struct {
	k3s        *testenv.K3s
	key        *testenv.ClientKey
	auth       *remote.Auth
	knownHosts string
	sshd       map[string]*testenv.SSHD
	cluster    *bootstrap.Cluster
	// proxy stands in front of the shared API server, which the stand-in
	// servers' kubeconfigs name (withAPI); cs reaches it directly.
	proxy *testenv.FaultProxy
	cs    kubernetes.Interface
}

type node struct{ name, role string }

func newFixture(t *testing.T, nodes ...node) *fixture {
	t.Helper()
	f := &fixture{k3s: testenv.NewK3s(t), key: testenv.NewClientKey(t), sshd: map[string]*testenv.SSHD{}}
	auth, err := remote.NewAuth(f.key.Path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	f.auth = auth
	f.cluster = &bootstrap.Cluster{
		Name:        "main",
		Version:     "v1.33.5+k3s1",
		Disable:     []string{"servicelb"},
		APIEndpoint: "k3s.int.example.com",
		StoragePath: "/data/local-path-provisioner",
	}
	var kh strings.Builder
	for _, n := range nodes {
		s := testenv.StartSSHD(t, testenv.SSHDOptions{AuthorizedKeys: []ssh.PublicKey{f.key.Public}})
		f.sshd[n.name] = s
		kh.WriteString(s.KnownHostsLine(s.HostKeys()[0]))
		f.cluster.Nodes = append(f.cluster.Nodes, bootstrap.Node{Name: n.name, Role: n.role,
			Target: remote.Target{User: s.User, Host: s.Host, Port: s.Port}})
	}
	f.knownHosts = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(f.knownHosts, []byte(kh.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// run is one bootstrap.Run and what it reported.
type run struct {
	res    *bootstrap.Result
	err    error
	events []bootstrap.Event
}

func (f *fixture) options(t *testing.T) bootstrap.Options {
	t.Helper()
	installer, err := os.ReadFile(f.k3s.Installer)
	if err != nil {
		t.Fatal(err)
	}
	return bootstrap.Options{
		SSH:          remote.Options{Auth: f.auth, KnownHosts: f.knownHosts},
		Installer:    installer,
		Timeout:      time.Minute,
		PollInterval: 10 * time.Millisecond,
		Paths:        func(n string) bootstrap.Paths { return bootstrap.DefaultPaths().Under(f.k3s.NodeRoot(n)) },
	}
}

// eventTypes lists the types of the events about node (all events when
// node is empty), in order.
func eventTypes(events []bootstrap.Event, node string) []bootstrap.EventType {
	var out []bootstrap.EventType
	for _, ev := range events {
		if node == "" || ev.Node.Node.Name == node {
			out = append(out, ev.Type)
		}
	}
	return out
}

func (f *fixture) run(t *testing.T, o bootstrap.Options) run {
	t.Helper()
	var (
		mu sync.Mutex
		r  run
	)
	o.OnEvent = func(ev bootstrap.Event) {
		mu.Lock()
		defer mu.Unlock()
		r.events = append(r.events, ev)
	}
	r.res, r.err = bootstrap.Run(context.Background(), f.cluster, o)
	return r
}

// commands returns every command each node ran.
func (f *fixture) commands(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for n, s := range f.sshd {
		out[n] = s.Commands(t)
	}
	return out
}

// actions summarises a plan as node → action.
func actions(plan []bootstrap.NodePlan) map[string]bootstrap.Action {
	out := map[string]bootstrap.Action{}
	for _, np := range plan {
		out[np.Node.Name] = np.Action
	}
	return out
}

// installed summarises installer runs as "node role version exec".
func installed(ins []testenv.K3sInstall) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Node+" "+in.Role+" "+in.Version+" | "+in.Exec)
	}
	return out
}

// probes are the read-only commands a node runs to plan.
func (f *fixture) probes(node string) []string {
	p := bootstrap.DefaultPaths().Under(f.k3s.NodeRoot(node))
	k3s, rec := filepath.Join(p.BinDir, "k3s"), filepath.Join(p.StateDir, "k3s.json")
	return []string{
		f.asRoot(node, "if [ -x "+k3s+" ]; then "+k3s+" --version; fi"),
		f.asRoot(node, "if [ -f "+rec+" ]; then cat "+rec+"; fi"),
	}
}

// asRoot is cmd as sshd gets it: wrapped in sudo when the test's user, and
// so the login user, is not root.
func (f *fixture) asRoot(node, cmd string) string {
	if f.sshd[node].User == "root" {
		return cmd
	}
	return "sudo -n sh -c " + remote.Quote(cmd)
}

// token is the first server's join token.
func (f *fixture) token(t *testing.T) string {
	t.Helper()
	data, ok := testenv.ReadNodeFile(t, filepath.Join(f.root("vps-1").DataDir, "server", "node-token"))
	if !ok {
		t.Fatal("vps-1 has no node-token")
	}
	return strings.TrimSpace(string(data))
}

func (f *fixture) root(node string) bootstrap.Paths {
	return bootstrap.DefaultPaths().Under(f.k3s.NodeRoot(node))
}

func TestInstallThenUpToDate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, node{"vps-1", spec.RoleServer})
	o := f.options(t)
	o.KubeconfigOut = filepath.Join(t.TempDir(), "kubeconfig")

	first := f.run(t, o)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if diff := cmp.Diff(map[string]bootstrap.Action{"vps-1": bootstrap.ActionInstall}, actions(first.res.Plan)); diff != "" {
		t.Errorf("first plan (-want +got):\n%s", diff)
	}
	p := f.root("vps-1")
	wantExec := "server --node-name vps-1 --tls-san k3s.int.example.com --default-local-storage-path /data/local-path-provisioner --disable servicelb --data-dir " + p.DataDir + " --write-kubeconfig " + p.Kubeconfig
	if diff := cmp.Diff([]string{"vps-1 server v1.33.5+k3s1 | " + wantExec}, installed(f.k3s.Installs(t))); diff != "" {
		t.Errorf("installs (-want +got):\n%s", diff)
	}
	wantEvents := []bootstrap.EventType{bootstrap.EventConnecting, bootstrap.EventProbing, bootstrap.EventPlan,
		bootstrap.EventStarted, bootstrap.EventUploading, bootstrap.EventInstalling, bootstrap.EventWaiting, bootstrap.EventReady, bootstrap.EventDone,
		bootstrap.EventKubeconfig, bootstrap.EventDone}
	if diff := cmp.Diff(wantEvents, eventTypes(first.events, "")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if got := first.events[6].Waiting; !strings.Contains(got, "node vps-1 to be Ready") || !strings.Contains(got, "k3s kubectl get node vps-1") {
		t.Errorf("waiting for %q, want it to say the node and the probe", got)
	}
	if _, ok := testenv.ReadNodeFile(t, filepath.Join(p.StateDir, "k3s.json")); !ok {
		t.Error("no record on the node")
	}
	if diff := cmp.Diff(&bootstrap.Kubeconfigs{Context: "main", Server: "https://k3s.int.example.com:6443", Written: o.KubeconfigOut, WrittenChanged: true}, first.res.Kubeconfig); diff != "" {
		t.Errorf("kubeconfig (-want +got):\n%s", diff)
	}

	// The second run only reads.
	before := f.commands(t)["vps-1"]
	second := f.run(t, o)
	if second.err != nil {
		t.Fatal(second.err)
	}
	if diff := cmp.Diff(map[string]bootstrap.Action{"vps-1": bootstrap.ActionNone}, actions(second.res.Plan)); diff != "" {
		t.Errorf("second plan (-want +got):\n%s", diff)
	}
	if got := len(f.k3s.Installs(t)); got != 1 {
		t.Errorf("the installer ran %d times, want once", got)
	}
	members := filepath.Join(p.StateDir, "nodes.json")
	wantCmds := append(f.probes("vps-1"), f.asRoot("vps-1", "if [ -f "+members+" ]; then cat "+members+"; fi"), f.asRoot("vps-1", "cat "+p.Kubeconfig))
	if diff := cmp.Diff(wantCmds, f.commands(t)["vps-1"][len(before):]); diff != "" {
		t.Errorf("second run's commands (-want +got):\n%s", diff)
	}
	if second.res.Kubeconfig.WrittenChanged {
		t.Error("the second run rewrote an identical kubeconfig")
	}
	wantEvents = []bootstrap.EventType{bootstrap.EventConnecting, bootstrap.EventProbing, bootstrap.EventPlan,
		bootstrap.EventUpToDate, bootstrap.EventKubeconfig, bootstrap.EventDone}
	if diff := cmp.Diff(wantEvents, eventTypes(second.events, "")); diff != "" {
		t.Errorf("second run's events (-want +got):\n%s", diff)
	}
}

func TestChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// from and to change the fixture's cluster before the first and
		// the second run.
		from, to   func(c *bootstrap.Cluster)
		wantAction bootstrap.Action
		wantReason string
		// wantVersion is what k3s --version says after the second run.
		wantVersion string
	}{
		{
			name:       "version upgrade",
			to:         func(c *bootstrap.Cluster) { c.Version = "v1.34.1+k3s1" },
			wantAction: bootstrap.ActionUpgrade, wantReason: "version v1.33.5+k3s1 → v1.34.1+k3s1", wantVersion: "v1.34.1+k3s1",
		},
		{
			name:       "same channel is up to date",
			from:       func(c *bootstrap.Cluster) { c.Version, c.Channel = "", "stable" },
			to:         func(c *bootstrap.Cluster) { c.Version, c.Channel = "", "stable" },
			wantAction: bootstrap.ActionNone, wantVersion: "v1.33.5+k3s1",
		},
		{
			name:       "channel switch",
			from:       func(c *bootstrap.Cluster) { c.Version, c.Channel = "", "stable" },
			to:         func(c *bootstrap.Cluster) { c.Version, c.Channel = "", "latest" },
			wantAction: bootstrap.ActionUpgrade, wantReason: "channel stable → channel latest", wantVersion: "v1.34.1+k3s1",
		},
		{
			name:       "pinned version to its channel",
			to:         func(c *bootstrap.Cluster) { c.Version, c.Channel = "", "stable" },
			wantAction: bootstrap.ActionUpgrade, wantReason: "a pinned version → channel stable", wantVersion: "v1.33.5+k3s1",
		},
		{
			name:       "flags change",
			to:         func(c *bootstrap.Cluster) { c.Disable = []string{"traefik"}; c.APIEndpoint = "api.example.com" },
			wantAction: bootstrap.ActionReconfigure, wantReason: "flags +[--tls-san api.example.com, --disable traefik] -[--tls-san k3s.int.example.com, --disable servicelb]",
			wantVersion: "v1.33.5+k3s1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, node{"vps-1", spec.RoleServer})
			f.withAPI(t)
			o := f.options(t)
			if tc.from != nil {
				tc.from(f.cluster)
			}
			if r := f.run(t, o); r.err != nil {
				t.Fatal(r.err)
			}
			tc.to(f.cluster)
			r := f.run(t, o)
			if r.err != nil {
				t.Fatal(r.err)
			}
			np := r.res.Plan[0]
			if diff := cmp.Diff([]string{string(tc.wantAction), tc.wantReason}, []string{string(np.Action), np.Reason}); diff != "" {
				t.Errorf("action, reason (-want +got):\n%s", diff)
			}
			wantInstalls := 2
			if tc.wantAction == bootstrap.ActionNone {
				wantInstalls = 1
			}
			ins := f.k3s.Installs(t)
			if len(ins) != wantInstalls {
				t.Fatalf("the installer ran %d times, want %d", len(ins), wantInstalls)
			}
			if diff := cmp.Diff(tc.wantVersion, ins[len(ins)-1].Version); diff != "" {
				t.Errorf("installed version (-want +got):\n%s", diff)
			}
			// A third run finds nothing to do.
			third := f.run(t, o)
			if third.err != nil {
				t.Fatal(third.err)
			}
			if diff := cmp.Diff(map[string]bootstrap.Action{"vps-1": bootstrap.ActionNone}, actions(third.res.Plan)); diff != "" {
				t.Errorf("third plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJoinAgents(t *testing.T) {
	t.Parallel()
	f := newFixture(t, node{"vps-1", spec.RoleServer}, node{"worker-1", spec.RoleAgent}, node{"worker-2", spec.RoleAgent})
	o := f.options(t)
	r := f.run(t, o)
	if r.err != nil {
		t.Fatal(r.err)
	}
	token := f.token(t)
	// Each node tells its own story, in order, whatever the interleaving.
	acted := []bootstrap.EventType{bootstrap.EventConnecting, bootstrap.EventProbing,
		bootstrap.EventStarted, bootstrap.EventUploading, bootstrap.EventInstalling, bootstrap.EventWaiting, bootstrap.EventReady, bootstrap.EventDone}
	for _, n := range []string{"vps-1", "worker-1", "worker-2"} {
		want := acted
		if n == "vps-1" {
			want = append(slices.Clone(acted), bootstrap.EventKubeconfig, bootstrap.EventDone)
		}
		if diff := cmp.Diff(want, eventTypes(r.events, n)); diff != "" {
			t.Errorf("%s's events (-want +got):\n%s", n, diff)
		}
	}

	ins := f.k3s.Installs(t)
	if len(ins) != 3 || ins[0].Node != "vps-1" {
		t.Fatalf("installs %q, want vps-1 first, then the two agents", installed(ins))
	}
	type join struct{ Node, Role, URL, TokenFile, Mode, Token, EnvToken string }
	var got []join
	for _, in := range ins[1:] {
		got = append(got, join{in.Node, in.Role, in.K3sURL, in.TokenFile, in.TokenFileMode, in.Token, in.EnvToken})
	}
	if len(got) == 2 && got[0].Node > got[1].Node {
		got[0], got[1] = got[1], got[0]
	}
	var want []join
	for _, n := range []string{"worker-1", "worker-2"} {
		want = append(want, join{n, "agent", "https://127.0.0.1:6443", filepath.Join(f.root(n).StateDir, "token"), "600", token, ""})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agent joins (-want +got):\n%s", diff)
	}
	assertTokenNowhere(t, f, token)

	// Agents are Ready and up to date the second time.
	r2 := f.run(t, o)
	if r2.err != nil {
		t.Fatal(r2.err)
	}
	wantActions := map[string]bootstrap.Action{"vps-1": bootstrap.ActionNone, "worker-1": bootstrap.ActionNone, "worker-2": bootstrap.ActionNone}
	if diff := cmp.Diff(wantActions, actions(r2.res.Plan)); diff != "" {
		t.Errorf("second plan (-want +got):\n%s", diff)
	}
}

// assertTokenNowhere checks that the token was on no command line: not in
// the commands the nodes' sshd ran, the installer's environment and
// arguments, or any k3s call.
func assertTokenNowhere(t *testing.T, f *fixture, token string) {
	t.Helper()
	if len(token) < 16 {
		t.Fatalf("token %q is too short to look for", token)
	}
	for n, cmds := range f.commands(t) {
		for _, c := range cmds {
			if strings.Contains(c, token) {
				t.Errorf("%s ran a command carrying the token: %q", n, c)
			}
		}
	}
	for _, in := range f.k3s.Installs(t) {
		for _, s := range []string{in.Exec, in.Argv, in.K3sURL, in.EnvToken} {
			if strings.Contains(s, token) {
				t.Errorf("%s's installer got the token on its command line: %q", in.Node, s)
			}
		}
	}
	for _, c := range f.k3s.K3sArgv(t) {
		if strings.Contains(c, token) {
			t.Errorf("k3s was called with the token: %q", c)
		}
	}
}

func TestHAServers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, node{"vps-1", spec.RoleServer}, node{"vps-2", spec.RoleServer}, node{"vps-3", spec.RoleServer}, node{"worker-1", spec.RoleAgent})
	r := f.run(t, f.options(t))
	if r.err != nil {
		t.Fatal(r.err)
	}
	ins := f.k3s.Installs(t)
	var got []string
	for _, in := range ins {
		got = append(got, in.Node)
	}
	if diff := cmp.Diff([]string{"vps-1", "vps-2", "vps-3", "worker-1"}, got); diff != "" {
		t.Fatalf("install order (-want +got):\n%s", diff)
	}
	token := f.token(t)
	if !strings.HasPrefix(ins[0].Exec, "server --cluster-init --node-name vps-1 ") {
		t.Errorf("first server's exec %q lacks --cluster-init", ins[0].Exec)
	}
	for _, in := range ins[1:3] {
		if !strings.HasPrefix(in.Exec, "server --server https://127.0.0.1:6443 --node-name "+in.Node+" --tls-san k3s.int.example.com ") {
			t.Errorf("%s's exec %q does not join the first server", in.Node, in.Exec)
		}
		if in.Token != token || in.TokenFileMode != "600" {
			t.Errorf("%s joined with token %q (mode %s), want the first server's (600)", in.Node, in.Token, in.TokenFileMode)
		}
	}
	assertTokenNowhere(t, f, token)
}

func TestDryRunRunsOnlyProbes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, node{"vps-1", spec.RoleServer}, node{"worker-1", spec.RoleAgent})
	o := f.options(t)
	o.DryRun = true
	o.KubeconfigOut = filepath.Join(t.TempDir(), "kubeconfig")
	r := f.run(t, o)
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := map[string]bootstrap.Action{"vps-1": bootstrap.ActionInstall, "worker-1": bootstrap.ActionInstall}
	if diff := cmp.Diff(want, actions(r.res.Plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"vps-1": f.probes("vps-1"), "worker-1": f.probes("worker-1")}, f.commands(t)); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if ins := f.k3s.Installs(t); len(ins) != 0 {
		t.Errorf("a dry run installed: %q", installed(ins))
	}
	if _, err := os.Stat(o.KubeconfigOut); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run wrote the kubeconfig: %v", err)
	}
	if r.res.Kubeconfig != nil {
		t.Errorf("a dry run reports a kubeconfig: %+v", r.res.Kubeconfig)
	}
}

func TestRefusedHostRunsNothingAnywhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t, node{"vps-1", spec.RoleServer}, node{"worker-1", spec.RoleAgent})
	// Only vps-1 is known.
	s := f.sshd["vps-1"]
	if err := os.WriteFile(f.knownHosts, []byte(s.KnownHostsLine(s.HostKeys()[0])), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.run(t, f.options(t))
	var ue *remote.UnknownHostError
	if !errors.As(r.err, &ue) {
		t.Fatalf("got %v, want an *UnknownHostError", r.err)
	}
	if !strings.HasPrefix(r.err.Error(), "node worker-1: ssh ") {
		t.Errorf("error %q does not name the node", r.err)
	}
	if diff := cmp.Diff(map[string][]string{"vps-1": nil, "worker-1": nil}, f.commands(t)); diff != "" {
		t.Errorf("commands ran (-want +got):\n%s", diff)
	}
	// The refused node's line ends failed; the other never got further
	// than connecting.
	got := map[string][]bootstrap.EventType{"vps-1": eventTypes(r.events, "vps-1"), "worker-1": eventTypes(r.events, "worker-1")}
	want := map[string][]bootstrap.EventType{"vps-1": {bootstrap.EventConnecting}, "worker-1": {bootstrap.EventConnecting, bootstrap.EventFailed}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture, o *bootstrap.Options)
		// heal undoes the fault before the rerun, when the fault is not
		// in the options alone.
		heal func(t *testing.T, f *fixture)
		// want are parts of the error.
		want []string
		// step is the node's last event before it failed.
		step bootstrap.EventType
	}{
		{
			name: "SSH dropped mid-install",
			setup: func(t *testing.T, f *fixture, o *bootstrap.Options) {
				// The installer kills the sshd process serving its own
				// session: the connection drops with no exit status.
				o.Installer = []byte(`#!/bin/sh
p=$PPID
while [ "$p" -gt 1 ]; do
  case "$(cat /proc/$p/comm)" in sshd*) kill -KILL "$p"; exit 0;; esac
  p=$(sed 's/.*) [A-Za-z] \([0-9]*\).*/\1/' /proc/$p/stat)
done
exit 3
`)
			},
			want: []string{"node vps-1: install: ssh ", "INSTALL_K3S_EXEC=", "the connection dropped before the command finished"},
			step: bootstrap.EventInstalling,
		},
		{
			name: "installer fails",
			setup: func(t *testing.T, f *fixture, o *bootstrap.Options) {
				f.cluster.Version, f.cluster.Channel = "", "v1.20"
			},
			want: []string{
				"node vps-1: install: ssh ", `run "INSTALL_K3S_CHANNEL=v1.20 INSTALL_K3S_BIN_DIR=`, "exit status 1",
				"[ERROR]  Failed to get release for channel v1.20",
			},
			step: bootstrap.EventInstalling,
		},
		{
			name: "node never Ready",
			setup: func(t *testing.T, f *fixture, o *bootstrap.Options) {
				f.k3s.NeverReady(t, "vps-1")
				o.Timeout = 2 * time.Second
			},
			heal: func(t *testing.T, f *fixture) { f.k3s.Ready(t, "vps-1") },
			want: []string{`node vps-1: not Ready after 2s (k3s kubectl get node vps-1 on vps-1 last said: `},
			step: bootstrap.EventWaiting,
		},
		{
			name: "installer missing on the node",
			setup: func(t *testing.T, f *fixture, o *bootstrap.Options) {
				o.Installer = nil
				o.InstallerURL = "http://127.0.0.1:1/install.sh"
			},
			want: []string{"node vps-1: install: ssh ", "127.0.0.1:1/install.sh", "exit status"},
			step: bootstrap.EventDownloading,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, node{"vps-1", spec.RoleServer})
			// A rerun after a failed install takes the node over, which
			// restarts K3s: drained first, through the API server.
			f.withAPI(t)
			// The local kubeconfig exists before; a failed run leaves it.
			kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
			const before = "apiVersion: v1\nkind: Config\ncurrent-context: other\n"
			if err := os.WriteFile(kubeconfig, []byte(before), 0o600); err != nil {
				t.Fatal(err)
			}
			o := f.options(t)
			o.KubeconfigOut = kubeconfig
			tc.setup(t, f, &o)
			r := f.run(t, o)
			if r.err == nil {
				t.Fatal("Run succeeded")
			}
			t.Logf("error: %v", r.err)
			if got, _ := os.ReadFile(kubeconfig); string(got) != before {
				t.Errorf("a failed run changed the local kubeconfig:\n%s", got)
			}
			for _, part := range tc.want {
				if !strings.Contains(r.err.Error(), part) {
					t.Errorf("error does not contain %q:\n%v", part, r.err)
				}
			}
			if _, ok := testenv.ReadNodeFile(t, filepath.Join(f.root("vps-1").StateDir, "k3s.json")); ok {
				t.Error("a failed node was recorded as installed")
			}
			// The node's last two events: the step that failed, and the
			// failure carrying the error Run returned.
			types := eventTypes(r.events, "vps-1")
			if diff := cmp.Diff([]bootstrap.EventType{tc.step, bootstrap.EventFailed}, types[max(0, len(types)-2):]); diff != "" {
				t.Errorf("vps-1's last events (-want +got):\n%s", diff)
			}
			if last := r.events[len(r.events)-1]; last.Err == nil || last.Err.Error() != r.err.Error() {
				t.Errorf("the failure event carries %v, want Run's error", last.Err)
			}
			// Once the fault is gone, a rerun completes.
			if tc.heal != nil {
				tc.heal(t, f)
			}
			f.cluster.Version, f.cluster.Channel = "v1.33.5+k3s1", ""
			o = f.options(t)
			o.KubeconfigOut = kubeconfig
			if r := f.run(t, o); r.err != nil {
				t.Fatalf("rerun: %v", r.err)
			}
			if cfg, err := clientcmd.LoadFromFile(kubeconfig); err != nil || cfg.Contexts["main"] == nil {
				t.Errorf("the rerun did not write the kubeconfig: %v", err)
			}
		})
	}
}

func TestKubeconfigFromNode(t *testing.T) {
	t.Parallel()
	f := newFixture(t, node{"vps-1", spec.RoleServer})
	o := f.options(t)
	dir := t.TempDir()
	o.KubeconfigOut = filepath.Join(dir, "kubeconfig")
	o.MergeInto = filepath.Join(dir, "config")
	// Both exist, world-readable.
	for _, p := range []string{o.KubeconfigOut, o.MergeInto} {
		if err := os.WriteFile(p, []byte("apiVersion: v1\nkind: Config\ncurrent-context: other\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := f.run(t, o)
	if r.err != nil {
		t.Fatal(r.err)
	}
	data, ok := testenv.ReadNodeFile(t, f.root("vps-1").Kubeconfig)
	if !ok {
		t.Fatal("no kubeconfig on the node")
	}
	node, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{o.KubeconfigOut, o.MergeInto} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %o, want 0600", p, fi.Mode().Perm())
		}
		cfg, err := clientcmd.LoadFromFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.Clusters["main"]
		if c == nil || cfg.AuthInfos["main"] == nil || cfg.Contexts["main"] == nil {
			t.Fatalf("%s lacks the cluster, user or context main", p)
		}
		if diff := cmp.Diff("https://k3s.int.example.com:6443", c.Server); diff != "" {
			t.Errorf("%s server (-want +got):\n%s", p, diff)
		}
		if diff := cmp.Diff(node.Clusters["default"].CertificateAuthorityData, c.CertificateAuthorityData); diff != "" {
			t.Errorf("%s CA (-want +got):\n%s", p, diff)
		}
		if diff := cmp.Diff(node.AuthInfos["default"].ClientKeyData, cfg.AuthInfos["main"].ClientKeyData); diff != "" {
			t.Errorf("%s client key (-want +got):\n%s", p, diff)
		}
	}
	merged, err := clientcmd.LoadFromFile(o.MergeInto)
	if err != nil {
		t.Fatal(err)
	}
	if merged.CurrentContext != "other" {
		t.Errorf("merge changed the current context to %q", merged.CurrentContext)
	}
}
