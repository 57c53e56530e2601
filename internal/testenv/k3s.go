package testenv

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

//go:embed testdata/k3s-install.sh
var k3sInstaller string

// K3s is a stand-in for the K3s installer and binary, so bootstrap tests can
// run several "nodes" on one machine. The installer honours what kcloud
// hands the real one (INSTALL_K3S_VERSION, INSTALL_K3S_CHANNEL,
// INSTALL_K3S_EXEC with --node-name, --server, --data-dir and
// --write-kubeconfig, INSTALL_K3S_BIN_DIR, K3S_URL, K3S_TOKEN_FILE), refuses
// to write outside the test's directory, records every run, and leaves a
// k3s script that answers --version, `kubectl get node NAME`,
// `etcd-snapshot save|prune` and `server --cluster-reset`, K3s's uninstall
// script, a systemctl standing in for the init system, plus the node-token,
// token, datastore directory (etcd or SQLite) and admin kubeconfig of a
// server. A node is Ready once installed, unless NeverReady says otherwise.
// Events lists what it did, in order.
type K3s struct {
	// Installer is the stand-in install script, for --installer.
	Installer string
	// Roots holds one directory per node: give node N's K3s files the root
	// NodeRoot(N) (bootstrap.Paths.Under, kcloud's hidden --node-root).
	Roots string
	dir   string
}

// NewK3s writes a stand-in installer for the test.
func NewK3s(t testing.TB) *K3s {
	t.Helper()
	dir := t.TempDir()
	k := &K3s{dir: dir, Roots: filepath.Join(dir, "roots"), Installer: filepath.Join(dir, "install-k3s.sh")}
	writeFile(t, k.Installer, []byte(strings.ReplaceAll(k3sInstaller, "@STANDIN_DIR@", dir)), 0o755)
	if err := os.MkdirAll(k.Roots, 0o755); err != nil {
		t.Fatal(err)
	}
	Reclaim(t, dir)
	return k
}

// Reclaim gives dir back to the test's user before the test removes it,
// when the test does not run as root: nodes write there as root, through
// sudo. Call it after creating dir, so it runs before dir's removal.
func Reclaim(t testing.TB, dir string) {
	if os.Geteuid() == 0 {
		return
	}
	t.Cleanup(func() {
		_ = exec.Command("sudo", "-n", "chown", "-R", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()), dir).Run()
	})
}

// NodeRoot is the directory node's K3s files live under.
func (k *K3s) NodeRoot(node string) string { return filepath.Join(k.Roots, node) }

// NeverReady keeps node from ever turning Ready.
func (k *K3s) NeverReady(t testing.TB, node string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(k.dir, "never-ready"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(k.dir, "never-ready", node), nil, 0o644)
}

// Ready undoes NeverReady.
func (k *K3s) Ready(t testing.TB, node string) {
	t.Helper()
	if err := os.Remove(filepath.Join(k.dir, "never-ready", node)); err != nil {
		t.Fatal(err)
	}
}

// K3sInstall is one run of the stand-in installer, as it recorded it.
type K3sInstall struct {
	Node    string
	Role    string // server or agent
	Version string // as resolved from the version or channel
	Channel string // INSTALL_K3S_CHANNEL
	Exec    string // INSTALL_K3S_EXEC
	Argv    string // the installer's own command line
	K3sURL  string // K3S_URL
	// TokenFile is K3S_TOKEN_FILE or --token-file, TokenFileMode its mode
	// (e.g. "600") and Token its content.
	TokenFile     string
	TokenFileMode string
	Token         string
	// EnvToken is K3S_TOKEN, which kcloud never sets.
	EnvToken string
	// User ran the installer.
	User string
}

// Installs returns every run of the installer, oldest first.
func (k *K3s) Installs(t testing.TB) []K3sInstall {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(k.dir, "installs", "*.env"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []K3sInstall
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v := map[string]string{}
		for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			key, val, _ := strings.Cut(line, "=")
			v[key] = val
		}
		out = append(out, K3sInstall{
			Node: v["node"], Role: v["role"], Version: v["version"], Channel: v["channel"],
			Exec: v["exec"], Argv: v["argv"], K3sURL: v["k3s_url"],
			TokenFile: v["token_file"], TokenFileMode: v["token_file_mode"], Token: v["token"],
			EnvToken: v["env_token"], User: v["user"],
		})
	}
	return out
}

// K3sArgv returns the command line of every call of the stand-in k3s.
func (k *K3s) K3sArgv(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(k.dir, "k3s-argv.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

// ReadNodeFile reads a file a node wrote, as root: through sudo when the
// test does not run as root. ok is false when the file does not exist.
func ReadNodeFile(t testing.TB, path string) (data []byte, ok bool) {
	t.Helper()
	if os.Geteuid() == 0 {
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return data, true
	}
	if exec.Command("sudo", "-n", "test", "-e", path).Run() != nil {
		return nil, false
	}
	data, err := exec.Command("sudo", "-n", "cat", path).Output()
	if err != nil {
		t.Fatalf("sudo cat %s: %v", path, err)
	}
	return data, true
}

// UseAPIServer has every server the stand-in installs write an admin
// kubeconfig that reaches server (e.g. a FaultProxy's URL, which asks for
// no credentials; the token only satisfies kcloud's check that the
// kubeconfig carries some), in place of K3s's own: bootstrap then drains
// and removes nodes through the test's API server.
func (k *K3s) UseAPIServer(t testing.TB, server string) {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- cluster:
    server: %s
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    token: stand-in
`, server)
	writeFile(t, filepath.Join(k.dir, "admin-kubeconfig"), []byte(cfg), 0o644)
}

// FailSnapshots makes `k3s etcd-snapshot save` fail on every node until
// HealSnapshots.
func (k *K3s) FailSnapshots(t testing.TB) {
	t.Helper()
	writeFile(t, filepath.Join(k.dir, "fail-snapshot"), nil, 0o644)
}

// HealSnapshots undoes FailSnapshots.
func (k *K3s) HealSnapshots(t testing.TB) {
	t.Helper()
	if err := os.Remove(filepath.Join(k.dir, "fail-snapshot")); err != nil {
		t.Fatal(err)
	}
}

// Events returns what the stand-in did, oldest first, one line each:
// "install NODE ROLE VERSION", "snapshot NODE FILE", "prune NODE FILE",
// "service NODE stop|start SERVICE", "reset NODE FILE" (a cluster reset
// from FILE), "uninstall NODE ROLE".
func (k *K3s) Events(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(k.dir, "events.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}
