package testenv

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHDPath is the OpenSSH server the harness runs (Debian: apt-get install
// openssh-server).
const SSHDPath = "/usr/sbin/sshd"

// Host key kinds for SSHDOptions.HostKeyTypes.
const (
	KeyED25519 = "ed25519"
	KeyRSA     = "rsa"
	KeyECDSA   = "ecdsa"
)

// SSHD is a real OpenSSH server on 127.0.0.1 with its own sshd_config, host
// keys and authorized_keys in a test's temporary directory. A ForceCommand
// wrapper records every command a client runs before running it with sh.
//
// As root, clients log in as root. As any other user, sshd runs unprivileged
// and only that user can log in; kcloud then wraps commands in sudo, which
// must not ask for a password (as on CI runners).
type SSHD struct {
	// Host and Port are where it listens.
	Host string
	Port int
	// User is the account clients log in as.
	User string
	// Dir holds its config, keys and logs.
	Dir string

	hostKeys []ssh.PublicKey
	commands string
	log      *syncBuffer
	pid      int
}

// SSHDOptions configure StartSSHD.
type SSHDOptions struct {
	// HostKeyTypes are the host keys to generate, in the server's order;
	// KeyED25519 alone when empty.
	HostKeyTypes []string
	// AuthorizedKeys may log in.
	AuthorizedKeys []ssh.PublicKey
	// Env is set in every session (sshd's SetEnv).
	Env map[string]string
	// HostCA, when set, signs a host certificate for each host key, valid
	// for the principal 127.0.0.1 (sshd's HostCertificate).
	HostCA ssh.Signer
}

// StartSSHD starts an sshd for the test and stops it when the test ends. It
// skips the test when sshd is not installed, except under CI=true, where
// that is a failure.
func StartSSHD(t testing.TB, o SSHDOptions) *SSHD {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: apt-get install -y openssh-server", SSHDPath)
		}
		t.Skipf("%s is missing: apt-get install -y openssh-server", SSHDPath)
	}
	if len(o.HostKeyTypes) == 0 {
		o.HostKeyTypes = []string{KeyED25519}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		// Privilege separation chroots into it.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &SSHD{Host: "127.0.0.1", User: u.Username, Dir: t.TempDir(), log: &syncBuffer{}}
	s.commands = filepath.Join(s.Dir, "commands.log")

	var hostKeyLines []string
	for _, typ := range o.HostKeyTypes {
		priv, pub := newKey(t, typ)
		file := filepath.Join(s.Dir, "ssh_host_"+typ+"_key")
		writeKey(t, file, priv)
		s.hostKeys = append(s.hostKeys, pub)
		hostKeyLines = append(hostKeyLines, "HostKey "+file)
		if o.HostCA != nil {
			cert := &ssh.Certificate{Key: pub, CertType: ssh.HostCert, ValidPrincipals: []string{s.Host},
				ValidAfter: 0, ValidBefore: ssh.CertTimeInfinity, KeyId: "kcloud-test-host"}
			if err := cert.SignCert(rand.Reader, o.HostCA); err != nil {
				t.Fatal(err)
			}
			writeFile(t, file+"-cert.pub", ssh.MarshalAuthorizedKey(cert), 0o644)
			hostKeyLines = append(hostKeyLines, "HostCertificate "+file+"-cert.pub")
		}
	}
	var authorized bytes.Buffer
	for _, k := range o.AuthorizedKeys {
		authorized.Write(ssh.MarshalAuthorizedKey(k))
	}
	writeFile(t, filepath.Join(s.Dir, "authorized_keys"), authorized.Bytes(), 0o600)
	writeFile(t, filepath.Join(s.Dir, "record-command"), []byte(fmt.Sprintf(`#!/bin/sh
# Records the client's command, NUL-terminated, then runs it.
printf '%%s\0' "$SSH_ORIGINAL_COMMAND" >>%s
exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
`, shellQuote(s.commands))), 0o755)

	for attempt := 0; ; attempt++ {
		s.Port = freePort(t)
		cfg := []string{
			"Port " + strconv.Itoa(s.Port),
			"ListenAddress " + s.Host,
			"PidFile " + s.pidFile(),
			"AuthorizedKeysFile " + filepath.Join(s.Dir, "authorized_keys"),
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"PermitRootLogin prohibit-password",
			"StrictModes no",
			"UsePAM no",
			"MaxSessions 50",
			"MaxStartups 50",
			"LogLevel VERBOSE",
			"ForceCommand " + filepath.Join(s.Dir, "record-command"),
		}
		cfg = append(cfg, hostKeyLines...)
		for k, v := range o.Env {
			cfg = append(cfg, fmt.Sprintf("SetEnv %s=%q", k, v))
		}
		config := filepath.Join(s.Dir, "sshd_config")
		writeFile(t, config, []byte(strings.Join(cfg, "\n")+"\n"), 0o600)
		os.Remove(s.pidFile())
		err := s.start(t, config)
		if err == nil {
			return s
		}
		if attempt == 4 {
			t.Fatalf("start sshd: %v\n%s", err, s.log.String())
		}
	}
}

// start runs sshd and waits for its banner; an sshd that exits first (the
// port was taken meanwhile) is an error.
func (s *SSHD) start(t testing.TB, config string) error {
	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", config)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		return err
	}
	s.pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("sshd exited: %v", err)
		default:
		}
		// sshd writes its pid file once it listens: a banner alone could
		// come from another test's sshd that took the port first.
		if pid, err := os.ReadFile(s.pidFile()); err == nil && strings.TrimSpace(string(pid)) == strconv.Itoa(cmd.Process.Pid) && banner(s.Addr()) {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return errors.New("sshd did not answer within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			lines := strings.Split(strings.TrimRight(s.log.String(), "\n"), "\n")
			if len(lines) > 40 {
				lines = append([]string{"…"}, lines[len(lines)-40:]...)
			}
			t.Logf("sshd on %s logged:\n%s", s.Addr(), strings.Join(lines, "\n"))
		}
	})
	return nil
}

func (s *SSHD) pidFile() string { return filepath.Join(s.Dir, "sshd.pid") }

// banner reports whether an SSH server answers at addr.
func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// Addr is host:port.
func (s *SSHD) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// HostKeys are the server's public host keys, in HostKeyTypes order.
func (s *SSHD) HostKeys() []ssh.PublicKey { return s.hostKeys }

// HostKey returns the server's host key of kind typ (KeyED25519, …).
func (s *SSHD) HostKey(t testing.TB, typ string) ssh.PublicKey {
	t.Helper()
	want := map[string]string{KeyED25519: ssh.KeyAlgoED25519, KeyRSA: ssh.KeyAlgoRSA, KeyECDSA: ssh.KeyAlgoECDSA256}[typ]
	for _, k := range s.hostKeys {
		if k.Type() == want {
			return k
		}
	}
	t.Fatalf("sshd %s has no %s host key", s.Addr(), typ)
	return nil
}

// KnownHostsLine is a known_hosts line vouching for key at this server.
func (s *SSHD) KnownHostsLine(key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, key) + "\n"
}

// DropConnections cuts every client connection at the server's end, the way
// a network failure or a rebooted machine would: it kills, by process id,
// each sshd process serving one (the listener's children), and keeps
// listening. It returns how many it cut.
func (s *SSHD) DropConnections(t testing.TB) int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after
		// its closing parenthesis.
		rest := string(data[bytes.LastIndexByte(data, ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 2 || fields[1] != strconv.Itoa(s.pid) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if err != nil {
			continue
		}
		if p, err := os.FindProcess(pid); err == nil && p.Kill() == nil {
			n++
		}
	}
	return n
}

// Commands returns every command clients ran, in order.
func (s *SSHD) Commands(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(s.commands)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return splitNUL(data)
}

// ClientKey is a client key pair for tests.
type ClientKey struct {
	// Path is the private key file (0600); PEM its content.
	Path   string
	PEM    []byte
	Public ssh.PublicKey
}

// NewClientKey generates an ed25519 client key in the test's temporary
// directory.
func NewClientKey(t testing.TB) *ClientKey {
	t.Helper()
	priv, pub := newKey(t, KeyED25519)
	path := filepath.Join(t.TempDir(), "id_ed25519")
	pemBytes := writeKey(t, path, priv)
	return &ClientKey{Path: path, PEM: pemBytes, Public: pub}
}

func newKey(t testing.TB, typ string) (crypto.Signer, ssh.PublicKey) {
	t.Helper()
	var (
		priv crypto.Signer
		err  error
	)
	switch typ {
	case KeyED25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case KeyRSA:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case KeyECDSA:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("unknown key type %q", typ)
	}
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// writeKey writes priv in OpenSSH format, 0600 (sshd refuses wider host
// keys), and returns the PEM.
func writeKey(t testing.TB, path string, priv crypto.Signer) []byte {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "kcloud-test")
	if err != nil {
		t.Fatal(err)
	}
	data := pem.EncodeToMemory(block)
	writeFile(t, path, data, 0o600)
	return data
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func splitNUL(data []byte) []string {
	var out []string
	for _, f := range bytes.Split(data, []byte{0}) {
		if len(f) > 0 {
			out = append(out, string(f))
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for sshd's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
