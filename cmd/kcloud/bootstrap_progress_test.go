package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"

	"kcloud.dev/kcloud/internal/testenv"
)

// TestBootstrapProgressOnATerminal runs kcloud bootstrap in a
// pseudo-terminal against two real sshds with the stand-in K3s, and reads
// the screen a terminal emulator makes of its output: the plan table, the
// log lines above, and one line per node that went through every step and
// ends done. The per-node plain lines are not there.
func TestBootstrapProgressOnATerminal(t *testing.T) {
	n := newBootstrapNodes(t)
	server, agent := n.server, n.agent
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "bootstrap", "--known-hosts", n.knownHosts, "--installer", n.k3s.Installer,
		"--kubeconfig-out", kubeconfig, "--node-root", n.k3s.Roots, n.specs)
	cmd.Env = append(os.Environ(), "KCLOUD_TEST_MAIN=1", "CI=", "TERM=xterm", "NO_COLOR=1", "SSH_AUTH_SOCK=",
		"VPS_SSH_KEY="+string(n.key.PEM), "VPS_HOST="+server.Host, "WORKER_HOST="+agent.Host)
	const cols, rows = 200, 40
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var raw bytes.Buffer
	// The read ends with EIO once kcloud, the terminal's only user, exits.
	if _, err := io.Copy(&raw, tty); err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bootstrap on a terminal: %v\n%q", err, raw.String())
	}
	term := vt10x.New(vt10x.WithSize(cols, rows))
	if _, err := term.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	var screen []string
	for _, l := range strings.Split(term.String(), "\n") {
		if l = strings.TrimRight(l, " "); l != "" {
			screen = append(screen, l)
		}
	}
	t.Logf("screen:\n%s", strings.Join(screen, "\n"))

	target := func(s *testenv.SSHD) string { return regexp.QuoteMeta(s.User + "@" + s.Addr()) }
	line := func(node, role string, s *testenv.SSHD, step string) *regexp.Regexp {
		return regexp.MustCompile(`^` + node + ` +` + role + ` +` + target(s) + ` +install +[0-9.]+m?s  ` + step + `$`)
	}
	// The screen ends with the plan and its steps, the log lines, the node
	// lines and the kubeconfig line, in that order.
	want := []*regexp.Regexp{
		regexp.MustCompile(`^NODE +ROLE +TARGET +CURRENT +DESIRED +ACTION +WHY$`),
		regexp.MustCompile(`^vps-1 +server +` + target(server) + ` +- +v1.33.5\+k3s1 +install +K3s is not installed$`),
		regexp.MustCompile(`^worker-1 +agent +` + target(agent) + ` +- +v1.33.5\+k3s1 +install +K3s is not installed$`),
		regexp.MustCompile(`^STEP +NODE +WHAT +HOW$`),
		regexp.MustCompile(`^1 +vps-1 +install +v1\.33\.5\+k3s1$`),
		regexp.MustCompile(`^2 +vps-1 +wait Ready +-$`),
		regexp.MustCompile(`^3 +worker-1 +install +v1\.33\.5\+k3s1$`),
		regexp.MustCompile(`^4 +worker-1 +wait Ready +-$`),
		regexp.MustCompile(`INF bootstrap node .*node=vps-1`),
		regexp.MustCompile(`INF bootstrap node .*node=worker-1`),
		line("vps-1", "server", server, `done, K3s v1\.33\.5\+k3s1`),
		line("worker-1", "agent", agent, `done, K3s v1\.33\.5\+k3s1`),
		regexp.MustCompile(`^kubeconfig: wrote ` + regexp.QuoteMeta(kubeconfig) + ` \(context main, server https://k3s.int.example.com:6443\)$`),
	}
	if len(screen) < len(want) {
		t.Fatalf("screen has %d lines, want at least %d", len(screen), len(want))
	}
	for i, re := range want {
		if got := screen[len(screen)-len(want)+i]; !re.MatchString(got) {
			t.Errorf("screen line %d is %q, want it to match %s", len(screen)-len(want)+i+1, got, re)
		}
	}

	// On the way, each node's line went through every step, each drawn in
	// place (the lines before taken back): the output has a line per step
	// and node.
	frames := regexp.MustCompile(`\r\x1b\[\d+A\x1b\[J`).ReplaceAllString(strings.ReplaceAll(raw.String(), "\r\n", "\n"), "\n")
	t.Logf("every line drawn:\n%s", frames)
	steps := []string{"connecting", "probing", "pending", "starting", "uploading installer", "running installer", "waiting for Ready", "Ready"}
	for _, n := range []struct {
		name, role string
		sshd       *testenv.SSHD
		steps      []string
	}{
		{"vps-1", "server", server, append(steps, "fetching kubeconfig")},
		{"worker-1", "agent", agent, steps},
	} {
		for _, step := range n.steps {
			re := line(n.name, n.role, n.sshd, step)
			re = regexp.MustCompile(`(?m)` + strings.Replace(strings.TrimSuffix(re.String(), "$"), `install +`, `(-|install) +`, 1) + `$`)
			if !re.MatchString(frames) {
				t.Errorf("no line says %s %s", n.name, step)
			}
		}
	}
	if strings.Contains(frames, "vps-1: running the installer") {
		t.Error("plain lines on a terminal")
	}
}
