package remote_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/remote"
)

func newCA(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startCertServer(t *testing.T, ca ssh.Signer) *server {
	t.Helper()
	key := testenv.NewClientKey(t)
	sshd := testenv.StartSSHD(t, testenv.SSHDOptions{AuthorizedKeys: []ssh.PublicKey{key.Public}, HostCA: ca})
	auth, err := remote.NewAuth(key.Path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	return &server{sshd: sshd, key: key, auth: auth, target: remote.Target{User: sshd.User, Host: sshd.Host, Port: sshd.Port}}
}

// caKnownHosts writes a known_hosts file that trusts ca for s.
func caKnownHosts(t *testing.T, s *server, ca ssh.PublicKey) string {
	t.Helper()
	line := "@cert-authority " + knownhosts.Line([]string{knownhosts.Normalize(s.target.Addr())}, ca) + "\n"
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A @cert-authority line is honoured: a host certificate it signs is
// accepted; a plain key or a certificate from another CA is refused with
// an error that says so (not "host key changed"), and --accept-new-host-key
// does not fall back to trusting the key on first use.
func TestHostCertificates(t *testing.T) {
	t.Parallel()
	ca, otherCA := newCA(t), newCA(t)
	signed := startCertServer(t, ca)
	plain := startServer(t, testenv.KeyED25519)
	for _, tc := range []struct {
		name    string
		server  *server
		trusted ssh.PublicKey
		wantErr string
	}{
		{"certificate signed by the known CA", signed, ca.PublicKey(), ""},
		{"plain key where a CA is known", plain, ca.PublicKey(), "host certificate required"},
		{"certificate from another CA", signed, otherCA.PublicKey(), "host certificate refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kh := caKnownHosts(t, tc.server, tc.trusted)
			before, _ := os.ReadFile(kh)
			r, err := remote.Dial(context.Background(), tc.server.target, remote.Options{Auth: tc.server.auth, KnownHosts: kh, AcceptNewHostKey: true})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if _, err := r.Run(context.Background(), "true", nil); err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *remote.HostCertificateError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want a *HostCertificateError: %s", err, tc.wantErr)
			}
			if after, _ := os.ReadFile(kh); string(after) != string(before) {
				t.Errorf("known_hosts changed:\n%s", after)
			}
		})
	}
}

// --accept-new-host-key keeps a hashed known_hosts file hashed.
func TestAcceptNewHashesInAHashedFile(t *testing.T) {
	t.Parallel()
	a, b := startServer(t), startServer(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	hashed := knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(a.target.Addr()))}, a.sshd.HostKeys()[0]) + "\n"
	if err := os.WriteFile(kh, []byte(hashed), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := remote.Dial(context.Background(), b.target, remote.Options{Auth: b.auth, KnownHosts: kh, AcceptNewHostKey: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	data, _ := os.ReadFile(kh)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "|1|") || strings.Contains(string(data), "127.0.0.1") {
		t.Fatalf("known_hosts after accepting a new key:\n%s", data)
	}
	r2, err := remote.Dial(context.Background(), b.target, remote.Options{Auth: b.auth, KnownHosts: kh})
	if err != nil {
		t.Fatalf("second dial through the hashed line: %v", err)
	}
	r2.Close()
}
