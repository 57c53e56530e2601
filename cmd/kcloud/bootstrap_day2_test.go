package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"kcloud.dev/kcloud/internal/testenv"
)

// haNodes are two servers and an agent, each a real sshd with the
// stand-in K3s, all vouched for by knownHosts.
type haNodes struct {
	key                  *testenv.ClientKey
	k3s                  *testenv.K3s
	sshd                 map[string]*testenv.SSHD
	names                []string
	knownHosts, specsDir string
}

func newHANodes(t *testing.T) *haNodes {
	t.Helper()
	n := &haNodes{key: testenv.NewClientKey(t), k3s: testenv.NewK3s(t), sshd: map[string]*testenv.SSHD{},
		names: []string{"vps-1", "vps-2", "worker-1"}, specsDir: t.TempDir()}
	var kh strings.Builder
	for _, name := range n.names {
		s := testenv.StartSSHD(t, testenv.SSHDOptions{AuthorizedKeys: []ssh.PublicKey{n.key.Public}})
		n.sshd[name] = s
		kh.WriteString(s.KnownHostsLine(s.HostKeys()[0]))
	}
	n.knownHosts = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(n.knownHosts, []byte(kh.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VPS_SSH_KEY", string(n.key.PEM))
	t.Setenv("SSH_AUTH_SOCK", "")
	return n
}

// spec writes the Cluster spec: K3s version, and the nodes of names.
func (n *haNodes) spec(t *testing.T, version string, names ...string) {
	t.Helper()
	var nodes strings.Builder
	for _, name := range names {
		s, role := n.sshd[name], "server"
		if strings.HasPrefix(name, "worker") {
			role = "agent"
		}
		fmt.Fprintf(&nodes, "    - name: %s\n      host: %s\n      user: %s\n      port: %d\n      role: %s\n", name, s.Host, s.User, s.Port, role)
	}
	cluster := fmt.Sprintf(`apiVersion: kcloud.dev/v1alpha1
kind: Cluster
metadata:
  name: main
spec:
  k3s:
    version: %s
  apiEndpoint: k3s.int.example.com
  nodes:
%s  domains:
    internal: int.example.com
    base: example.com
  environments:
    - name: staging
      prefix: x-staging
    - name: prod
      prefix: ""
`, version, nodes.String())
	if err := os.WriteFile(filepath.Join(n.specsDir, "cluster.yaml"), []byte(cluster), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (n *haNodes) bootstrap(t *testing.T, extra ...string) (int, string, string) {
	t.Helper()
	args := []string{"bootstrap", "--log-level", "error", "--known-hosts", n.knownHosts, "--installer", n.k3s.Installer,
		"--kubeconfig-out", filepath.Join(t.TempDir(), "kubeconfig"), "--node-root", n.k3s.Roots}
	if len(extra) > 0 && extra[0] == "restore" {
		args = []string{"bootstrap", "restore", "--log-level", "error", "--known-hosts", n.knownHosts, "--node-root", n.k3s.Roots}
		extra = extra[1:]
	}
	return kcloud(t, append(append(args, extra...), n.specsDir)...)
}

// normal gives each node's random port a fixed one of the same width
// (22001, 22002, …), so that the columns stay aligned.
func (n *haNodes) normal(out string) string {
	for i, name := range n.names {
		out = strings.ReplaceAll(out, "127.0.0.1:"+strconv.Itoa(n.sshd[name].Port), fmt.Sprintf("127.0.0.1:%d", 22001+i))
	}
	return out
}

// TestBootstrapDay2 drives the day-2 flags end to end: the dry run of an
// upgrade from v1.33 to v1.34 on two servers and an agent (docs/bootstrap.md
// quotes it; golden file), a node gone from the spec without
// --remove-nodes, and restore's guards.
func TestBootstrapDay2(t *testing.T) {
	n := newHANodes(t)
	n.spec(t, "v1.33.5+k3s1", n.names...)
	if code, stdout, stderr := n.bootstrap(t); code != exitOK {
		t.Fatalf("install: exit %d\n%s%s", code, stdout, stderr)
	}

	n.spec(t, "v1.34.1+k3s1", n.names...)
	before := len(n.k3s.Events(t))
	code, stdout, stderr := n.bootstrap(t, "--dry-run")
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("kcloud bootstrap --dry-run:\n%s", stdout)
	if got := n.k3s.Events(t); len(got) != before {
		t.Errorf("the dry run acted: %q", got[before:])
	}
	if n.sshd["vps-1"].User != "root" {
		t.Logf("the golden dry run is root's; running as %s, it is not compared", n.sshd["vps-1"].User)
	} else {
		out := n.normal(stdout)
		golden(t, "bootstrap-upgrade-dry-run.txt", out)
		readme, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "bootstrap.md"))
		if err != nil {
			t.Fatal(err)
		}
		// Quoted in a list item, indented by three spaces.
		quote := regexp.MustCompile(`(?m)^(.)`).ReplaceAllString("$ kcloud bootstrap specs/ --dry-run\n"+out, "   $1")
		if !strings.Contains(string(readme), quote) {
			t.Errorf("docs/bootstrap.md does not quote testdata/golden/bootstrap-upgrade-dry-run.txt after \"$ kcloud bootstrap specs/ --dry-run\"")
		}
		readme, err = os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```text\n$ kcloud bootstrap specs/ --dry-run\n"+out+"```\n") {
			t.Errorf("README.md does not quote testdata/golden/bootstrap-upgrade-dry-run.txt after \"$ kcloud bootstrap specs/ --dry-run\"")
		}
	}

	// worker-1 leaves the spec: listed, refused, nothing changed.
	n.spec(t, "v1.33.5+k3s1", "vps-1", "vps-2")
	code, stdout, stderr = n.bootstrap(t)
	if code != exitFailed || !strings.Contains(stderr, "node(s) worker-1 left the spec") || !strings.Contains(stderr, "rerun with --remove-nodes") {
		t.Errorf("a departed node without --remove-nodes: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "worker-1  agent   ") || !strings.Contains(stdout, "remove") {
		t.Errorf("the plan does not list worker-1's removal:\n%s", stdout)
	}
	if got := n.k3s.Events(t); len(got) != before {
		t.Errorf("a refused run acted: %q", got[before:])
	}

	// restore asks for --yes, and names the snapshots it has.
	if code, _, stderr = n.bootstrap(t, "restore", "--snapshot", "kcloud-none"); code != exitUsage || !strings.Contains(stderr, "pass --yes") {
		t.Errorf("restore without --yes: exit %d\n%s", code, stderr)
	}
	if code, _, stderr = n.bootstrap(t, "restore", "--snapshot", "kcloud-none", "--dry-run"); code != exitFailed || !strings.Contains(stderr, "no snapshot kcloud-none in ") {
		t.Errorf("restore of a missing snapshot: exit %d\n%s", code, stderr)
	}
}
