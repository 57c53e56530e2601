package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

func TestSSHDRecordsCommands(t *testing.T) {
	key := NewClientKey(t)
	s := StartSSHD(t, SSHDOptions{HostKeyTypes: []string{KeyED25519, KeyRSA}, AuthorizedKeys: []ssh.PublicKey{key.Public}})
	signer, err := ssh.ParsePrivateKey(key.PEM)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:              s.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   ssh.FixedHostKey(s.HostKey(t, KeyRSA)),
		HostKeyAlgorithms: []string{ssh.KeyAlgoRSASHA256},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cmds := []string{"echo one", "printf 'two\\nlines'"}
	var outs []string
	for _, c := range cmds {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := sess.Output(c)
		sess.Close()
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(out))
	}
	if diff := cmp.Diff([]string{"one\n", "two\nlines"}, outs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(cmds, s.Commands(t)); diff != "" {
		t.Errorf("recorded commands (-want +got):\n%s", diff)
	}
}

// TestK3sStandIn runs the stand-in installer directly, as bootstrap would
// over SSH.
func TestK3sStandIn(t *testing.T) {
	k := NewK3s(t)
	root := k.NodeRoot("vps-1")
	install := func(env ...string) (string, error) {
		cmd := exec.Command("sh", k.Installer)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	exec1 := "server --node-name vps-1 --data-dir " + root + "/var/lib/rancher/k3s --write-kubeconfig " + root + "/etc/rancher/k3s/k3s.yaml"
	if out, err := install("INSTALL_K3S_CHANNEL=stable", "INSTALL_K3S_BIN_DIR="+root+"/usr/local/bin", "INSTALL_K3S_EXEC="+exec1); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	version, err := exec.Command(filepath.Join(root, "usr/local/bin/k3s"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(version), "k3s version v1.33.5+k3s1 ") {
		t.Errorf("k3s --version = %q", version)
	}
	ready, err := exec.Command(filepath.Join(root, "usr/local/bin/k3s"), "kubectl", "get", "node", "vps-1", "-o", "jsonpath={}").Output()
	if err != nil || string(ready) != "True v1.33.5+k3s1" {
		t.Errorf("ready = %q, %v", ready, err)
	}
	for _, f := range []string{"etc/rancher/k3s/k3s.yaml", "var/lib/rancher/k3s/server/node-token"} {
		fi, err := os.Stat(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %o, want 0600", f, fi.Mode().Perm())
		}
	}
	want := []K3sInstall{{Node: "vps-1", Role: "server", Version: "v1.33.5+k3s1", Channel: "stable", Exec: exec1, Argv: k.Installer + " ", User: currentUser(t)}}
	if diff := cmp.Diff(want, k.Installs(t)); diff != "" {
		t.Errorf("installs (-want +got):\n%s", diff)
	}

	// It never writes outside its directory: the real paths are refused.
	out, err := install("INSTALL_K3S_VERSION=v1.33.5+k3s1", "INSTALL_K3S_EXEC=server --node-name vps-2")
	if err == nil || !strings.Contains(out, "stand-in refuses to write /usr/local/bin outside") {
		t.Errorf("install to the real paths: %v\n%s", err, out)
	}
	// Agents need a server and a token.
	out, err = install("INSTALL_K3S_VERSION=v1.33.5+k3s1", "INSTALL_K3S_BIN_DIR="+root+"/bin", "INSTALL_K3S_EXEC=agent --node-name w --data-dir "+root+"/data")
	if err == nil || !strings.Contains(out, "agent needs K3S_URL") {
		t.Errorf("agent without K3S_URL: %v\n%s", err, out)
	}
}

func currentUser(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
