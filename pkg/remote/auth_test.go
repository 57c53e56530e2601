package remote_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/remote"
)

// startAgent serves an ssh-agent holding keys on a socket in the test's
// directory.
func startAgent(t *testing.T, keys ...*testenv.ClientKey) string {
	t.Helper()
	ring := agent.NewKeyring()
	for _, k := range keys {
		priv, err := ssh.ParseRawPrivateKey(k.PEM)
		if err != nil {
			t.Fatal(err)
		}
		if err := ring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = agent.ServeAgent(ring, c)
			}()
		}
	}()
	return sock
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	good, wrong := s.key, testenv.NewClientKey(t)
	kh := s.knownHosts(t, s.sshd.HostKeys()[0])
	escaped := strings.ReplaceAll(strings.TrimSpace(string(good.PEM)), "\n", `\n`)

	tests := []struct {
		name    string
		keyFile string
		env     map[string]string
		// wantSource is what Auth says it offers; wantRefused: the
		// server refuses it.
		wantSource  string
		wantRefused bool
	}{
		{name: "key file", keyFile: good.Path, wantSource: "key file " + good.Path},
		{name: "key file wins over the environment", keyFile: good.Path, env: map[string]string{remote.EnvSSHKey: string(wrong.PEM)}, wantSource: "key file " + good.Path},
		{name: "key in VPS_SSH_KEY", env: map[string]string{remote.EnvSSHKey: string(good.PEM)}, wantSource: "key in $VPS_SSH_KEY"},
		{name: "key in VPS_SSH_KEY with escaped newlines", env: map[string]string{remote.EnvSSHKey: "  " + escaped + "  "}, wantSource: "key in $VPS_SSH_KEY"},
		{name: "VPS_SSH_KEY wins over the agent", env: map[string]string{remote.EnvSSHKey: string(good.PEM), remote.EnvAuthSock: startAgent(t, wrong)}, wantSource: "key in $VPS_SSH_KEY"},
		{name: "empty VPS_SSH_KEY falls through to the agent", env: map[string]string{remote.EnvSSHKey: " ", remote.EnvAuthSock: startAgent(t, wrong, good)}, wantSource: "ssh-agent at $SSH_AUTH_SOCK"},
		{name: "wrong key file", keyFile: wrong.Path, wantSource: "key file " + wrong.Path, wantRefused: true},
		{name: "wrong key in VPS_SSH_KEY", env: map[string]string{remote.EnvSSHKey: string(wrong.PEM)}, wantSource: "key in $VPS_SSH_KEY", wantRefused: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auth, err := remote.NewAuth(tc.keyFile, env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			defer auth.Close()
			if !strings.HasPrefix(auth.String(), tc.wantSource+" (") {
				t.Errorf("source = %q, want it to start with %q", auth.String(), tc.wantSource)
			}
			r, err := remote.Dial(context.Background(), s.target, remote.Options{Auth: auth, KnownHosts: kh})
			if !tc.wantRefused {
				if err != nil {
					t.Fatal(err)
				}
				r.Close()
				return
			}
			var ae *remote.AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an *AuthError", err)
			}
			msg := err.Error()
			for _, part := range []string{s.target.String(), tc.wantSource, ssh.FingerprintSHA256(wrong.Public)} {
				if !strings.Contains(msg, part) {
					t.Errorf("error %q does not contain %q", msg, part)
				}
			}
			assertNoSecret(t, msg, wrong.PEM)
		})
	}
}

func TestNewAuthErrors(t *testing.T) {
	t.Parallel()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	locked := pem.EncodeToMemory(block)
	lockedFile := filepath.Join(t.TempDir(), "locked")
	if err := os.WriteFile(lockedFile, locked, 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n-----END OPENSSH PRIVATE KEY-----\n"

	tests := []struct {
		name    string
		keyFile string
		env     map[string]string
		want    string
		secret  []byte
	}{
		{name: "no credentials", want: "no SSH credentials: give a private key file, set $VPS_SSH_KEY to a private key, or run an ssh-agent ($SSH_AUTH_SOCK)"},
		{name: "missing key file", keyFile: filepath.Join(t.TempDir(), "nope"), want: "ssh key: open "},
		{name: "passphrase in a file", keyFile: lockedFile, want: "ssh key file " + lockedFile + ": the key has a passphrase and kcloud never prompts", secret: locked},
		{name: "passphrase in VPS_SSH_KEY", env: map[string]string{remote.EnvSSHKey: string(locked)}, want: "ssh key in $VPS_SSH_KEY: the key has a passphrase", secret: locked},
		{name: "garbage in VPS_SSH_KEY", env: map[string]string{remote.EnvSSHKey: garbage}, want: "ssh key in $VPS_SSH_KEY: not a private key: ", secret: []byte(garbage)},
		{name: "empty agent", env: map[string]string{remote.EnvAuthSock: startAgent(t)}, want: "ssh-agent at $SSH_AUTH_SOCK holds no keys"},
		{name: "no agent", env: map[string]string{remote.EnvAuthSock: filepath.Join(t.TempDir(), "gone.sock")}, want: "ssh-agent at $SSH_AUTH_SOCK: dial unix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := remote.NewAuth(tc.keyFile, env(tc.env))
			if err == nil {
				t.Fatal("NewAuth succeeded")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to start with %q", err, tc.want)
			}
			assertNoSecret(t, err.Error(), tc.secret)
		})
	}
}

// assertNoSecret fails when msg holds any line of a PEM secret's body.
func assertNoSecret(t *testing.T, msg string, secret []byte) {
	t.Helper()
	for _, line := range strings.Split(string(secret), "\n") {
		if len(line) > 8 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line) {
			t.Errorf("error %q leaks key material %q", msg, line)
		}
	}
}
