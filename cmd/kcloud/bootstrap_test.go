package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
	"k8s.io/client-go/tools/clientcmd"

	"kcloud.dev/kcloud/internal/testenv"
)

// bootstrapSpecs writes a spec tree whose Cluster has a server and an agent
// on the given sshds, hosts read from the environment as in CI.
func bootstrapSpecs(t *testing.T, server, agent *testenv.SSHD, serverHostKey string) string {
	t.Helper()
	dir := t.TempDir()
	hostKey := ""
	if serverHostKey != "" {
		hostKey = "\n      hostKey: " + serverHostKey
	}
	cluster := fmt.Sprintf(`apiVersion: kcloud.dev/v1alpha1
kind: Cluster
metadata:
  name: main
spec:
  k3s:
    version: v1.33.5+k3s1
    disable: [servicelb]
  apiEndpoint: k3s.int.example.com
  nodes:
    - name: vps-1
      host: ${VPS_HOST}
      user: %s
      port: %d%s
    - name: worker-1
      host: ${WORKER_HOST}
      user: %s
      port: %d
      role: agent
  storage:
    path: /data/local-path-provisioner
  domains:
    internal: int.example.com
    base: example.com
  environments:
    - name: staging
      prefix: x-staging
    - name: prod
      prefix: ""
`, server.User, server.Port, hostKey, agent.User, agent.Port)
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(cluster), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// bootstrapNodes are a server and an agent, each a real sshd that accepts
// key, with the stand-in K3s; specs names them (the server's host key
// pinned in it) and knownHosts vouches for the agent.
type bootstrapNodes struct {
	key               *testenv.ClientKey
	k3s               *testenv.K3s
	server, agent     *testenv.SSHD
	specs, knownHosts string
}

func newBootstrapNodes(t *testing.T) *bootstrapNodes {
	t.Helper()
	n := &bootstrapNodes{key: testenv.NewClientKey(t), k3s: testenv.NewK3s(t)}
	n.server = testenv.StartSSHD(t, testenv.SSHDOptions{AuthorizedKeys: []ssh.PublicKey{n.key.Public}})
	n.agent = testenv.StartSSHD(t, testenv.SSHDOptions{AuthorizedKeys: []ssh.PublicKey{n.key.Public}})
	n.specs = bootstrapSpecs(t, n.server, n.agent, ssh.FingerprintSHA256(n.server.HostKeys()[0]))
	n.knownHosts = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(n.knownHosts, []byte(n.agent.KnownHostsLine(n.agent.HostKeys()[0])), 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBootstrapCommand drives kcloud bootstrap end to end against two real
// sshds with the stand-in K3s, the way CI runs it: the key in $VPS_SSH_KEY,
// the server's host key pinned in the spec, the agent's in a known_hosts
// file.
func TestBootstrapCommand(t *testing.T) {
	n := newBootstrapNodes(t)
	key, k3s, server, agent, specs, knownHosts := n.key, n.k3s, n.server, n.agent, n.specs, n.knownHosts
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VPS_SSH_KEY", string(key.PEM))
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("VPS_HOST", server.Host)
	t.Setenv("WORKER_HOST", agent.Host)
	args := func(extra ...string) []string {
		a := []string{"bootstrap", "--log-level", "error", "--known-hosts", knownHosts, "--installer", k3s.Installer,
			"--kubeconfig-out", kubeconfig, "--node-root", k3s.Roots}
		return append(append(a, extra...), specs)
	}
	target := func(s *testenv.SSHD) string { return s.User + "@" + s.Addr() }

	// A dry run plans and changes nothing.
	code, stdout, stderr := kcloud(t, args("--dry-run")...)
	t.Logf("kcloud bootstrap --dry-run:\n%s", stdout)
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"NODE      ROLE    TARGET",
		"vps-1     server  " + target(server),
		"worker-1  agent   " + target(agent),
		"dry run: 2 of 2 node(s) would change; nothing was changed",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, stdout)
		}
	}
	if ins := k3s.Installs(t); len(ins) != 0 {
		t.Fatalf("a dry run installed %d node(s)", len(ins))
	}

	// The real run installs both and writes the kubeconfig.
	code, stdout, stderr = kcloud(t, args()...)
	t.Logf("kcloud bootstrap:\n%s", stdout)
	if code != exitOK {
		t.Fatalf("bootstrap: exit %d\n%s%s", code, stdout, stderr)
	}
	var nodes []string
	for _, in := range k3s.Installs(t) {
		nodes = append(nodes, in.Node+" "+in.Role)
	}
	if diff := cmp.Diff([]string{"vps-1 server", "worker-1 agent"}, nodes); diff != "" {
		t.Errorf("installs (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"vps-1: connecting to " + target(server) + "\n",
		"worker-1: connecting to " + target(agent) + "\n",
		"vps-1: install v1.33.5+k3s1\n",
		"vps-1: uploading the installer\n",
		"worker-1: running the installer\n",
		"vps-1: fetching the kubeconfig\n",
		"vps-1: waiting up to 5m0s for node vps-1 to be Ready",
		"vps-1: Ready, K3s v1.33.5+k3s1\n",
		"worker-1: Ready, K3s v1.33.5+k3s1\n",
		"kubeconfig: wrote " + kubeconfig + " (context main, server https://k3s.int.example.com:6443)\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\x1b") {
		t.Errorf("terminal escapes in plain output:\n%q", stdout)
	}
	fi, err := os.Stat(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %o, want 0600", fi.Mode().Perm())
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "main" || cfg.Clusters["main"] == nil || cfg.Clusters["main"].Server != "https://k3s.int.example.com:6443" {
		t.Errorf("kubeconfig: current context %q, clusters %v", cfg.CurrentContext, cfg.Clusters)
	}

	// The second run changes nothing.
	code, stdout, stderr = kcloud(t, args()...)
	t.Logf("kcloud bootstrap, again:\n%s", stdout)
	if code != exitOK {
		t.Fatalf("second bootstrap: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"vps-1: up to date, K3s v1.33.5+k3s1\n", "worker-1: up to date, K3s v1.33.5+k3s1\n", "kubeconfig: unchanged " + kubeconfig} {
		if !strings.Contains(stdout, want) {
			t.Errorf("second run's output lacks %q:\n%s", want, stdout)
		}
	}
	if n := len(k3s.Installs(t)); n != 2 {
		t.Errorf("the installer ran %d times in all, want 2", n)
	}
}

func TestBootstrapCommandFailures(t *testing.T) {
	key, wrongKey := testenv.NewClientKey(t), testenv.NewClientKey(t)
	k3s := testenv.NewK3s(t)
	server := testenv.StartSSHD(t, testenv.SSHDOptions{AuthorizedKeys: []ssh.PublicKey{key.Public}})
	agent := testenv.StartSSHD(t, testenv.SSHDOptions{AuthorizedKeys: []ssh.PublicKey{key.Public}})
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("VPS_SSH_KEY", "")

	tests := []struct {
		name string
		// serverHostKey is pinned in the spec; known lists the nodes the
		// known_hosts file vouches for.
		serverHostKey string
		known         []*testenv.SSHD
		env           map[string]string
		extra         []string
		wantCode      int
		wantStderr    []string
	}{
		{
			name: "unknown host", known: []*testenv.SSHD{server}, env: map[string]string{"VPS_HOST": server.Host, "WORKER_HOST": agent.Host},
			wantCode: exitFailed,
			wantStderr: []string{
				"node worker-1: ssh " + agent.User + "@" + agent.Addr() + ": unknown host key",
				"worker-1 (" + agent.User + "@" + agent.Addr() + "): hostKey: " + ssh.FingerprintSHA256(agent.HostKeys()[0]),
				fmt.Sprintf("ssh-keyscan -p %d %s >> ", agent.Port, agent.Host),
				"rerun with --accept-new-host-key",
			},
		},
		{
			name: "changed pinned key", serverHostKey: ssh.FingerprintSHA256(key.Public), known: []*testenv.SSHD{server, agent},
			env:      map[string]string{"VPS_HOST": server.Host, "WORKER_HOST": agent.Host},
			wantCode: exitFailed,
			wantStderr: []string{
				"node vps-1: ssh " + server.User + "@" + server.Addr() + ": host key mismatch: the spec pins hostKey " + ssh.FingerprintSHA256(key.Public),
				"update the node's hostKey: in the Cluster spec",
				"No flag skips this check",
			},
		},
		{
			name: "wrong key", known: []*testenv.SSHD{server, agent}, env: map[string]string{"VPS_HOST": server.Host, "WORKER_HOST": agent.Host},
			extra:    []string{"--ssh-key", wrongKey.Path},
			wantCode: exitFailed,
			wantStderr: []string{
				"node vps-1: ssh " + server.User + "@" + server.Addr() + ": the server refused key file " + wrongKey.Path + " (ssh-ed25519 " + ssh.FingerprintSHA256(wrongKey.Public) + ") for user " + server.User,
				"Check that the public key is in ~" + server.User + "/.ssh/authorized_keys",
			},
		},
		{
			name: "missing variable", known: []*testenv.SSHD{server, agent}, env: map[string]string{"WORKER_HOST": agent.Host},
			wantCode:   exitFailed,
			wantStderr: []string{"cluster.yaml:12:", "${VPS_HOST} is not set in the environment"},
		},
		{
			name: "no credentials", known: []*testenv.SSHD{server, agent}, env: map[string]string{"VPS_HOST": server.Host, "WORKER_HOST": agent.Host},
			extra:      []string{"--ssh-key", ""},
			wantCode:   exitFailed,
			wantStderr: []string{"no SSH credentials: pass --ssh-key FILE, set $VPS_SSH_KEY to the private key itself, or run an ssh-agent ($SSH_AUTH_SOCK)"},
		},
		{
			name: "bad timeout", known: []*testenv.SSHD{server, agent}, env: map[string]string{"VPS_HOST": server.Host, "WORKER_HOST": agent.Host},
			extra:      []string{"--timeout", "0s"},
			wantCode:   exitUsage,
			wantStderr: []string{"--timeout and --connect-timeout must be positive"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			specs := bootstrapSpecs(t, server, agent, tc.serverHostKey)
			knownHosts := filepath.Join(t.TempDir(), "known_hosts")
			var lines string
			for _, s := range tc.known {
				lines += s.KnownHostsLine(s.HostKeys()[0])
			}
			if err := os.WriteFile(knownHosts, []byte(lines), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"VPS_HOST", "WORKER_HOST"} {
				t.Setenv(v, "")
				os.Unsetenv(v)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := []string{"bootstrap", "--log-level", "error", "--ssh-key", key.Path, "--known-hosts", knownHosts,
				"--installer", k3s.Installer, "--kubeconfig-out", filepath.Join(t.TempDir(), "kubeconfig"), "--node-root", k3s.Roots}
			args = append(append(args, tc.extra...), specs)
			before := len(server.Commands(t)) + len(agent.Commands(t))
			code, stdout, stderr := kcloud(t, args...)
			t.Logf("stderr:\n%s", stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.wantCode, stdout, stderr)
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if after := len(server.Commands(t)) + len(agent.Commands(t)); after != before {
				t.Errorf("%d command(s) ran on the nodes", after-before)
			}
		})
	}
	if ins := k3s.Installs(t); len(ins) != 0 {
		t.Errorf("installed %d node(s)", len(ins))
	}
}

func TestMergeTarget(t *testing.T) {
	tests := []struct {
		name, flag, env, want string
	}{
		{name: "--kubeconfig wins", flag: "/a/config", env: "/b/config", want: "/a/config"},
		{name: "first file of $KUBECONFIG", env: "/b/config" + string(os.PathListSeparator) + "/c/config", want: "/b/config"},
		{name: "default", want: clientcmd.RecommendedHomeFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			if diff := cmp.Diff(tc.want, mergeTarget(&globals{kubeconfig: tc.flag})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
