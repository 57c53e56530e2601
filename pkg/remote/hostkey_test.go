package remote_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/remote"
)

func otherKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	return testenv.NewClientKey(t).Public
}

func TestHostKeys(t *testing.T) {
	t.Parallel()
	ed := startServer(t, testenv.KeyED25519)
	both := startServer(t, testenv.KeyED25519, testenv.KeyRSA)
	edKey := ed.sshd.HostKey(t, testenv.KeyED25519)
	bothED, bothRSA := both.sshd.HostKey(t, testenv.KeyED25519), both.sshd.HostKey(t, testenv.KeyRSA)

	type want int
	const (
		ok want = iota
		unknown
		changed
	)
	tests := []struct {
		name   string
		server *server
		// known are the keys the known_hosts file holds; nil: no file.
		known []ssh.PublicKey
		// otherHost is a key known_hosts holds for another port.
		otherHost ssh.PublicKey
		pin       string
		acceptNew bool
		dryRun    bool
		want      want
		// wantPresented are the key types a refused machine showed.
		wantPresented []string
		// wantRecorded: the known_hosts file gained the machine's key.
		wantRecorded bool
	}{
		{name: "known key", server: ed, known: []ssh.PublicKey{edKey}, want: ok},
		{name: "unknown host is refused", server: ed, want: unknown},
		{name: "unknown host, other hosts known", server: ed, otherHost: edKey, want: unknown},
		{name: "accept new records the key", server: ed, acceptNew: true, want: ok, wantRecorded: true},
		{name: "accept new in a dry run records nothing", server: ed, acceptNew: true, dryRun: true, want: ok},
		{name: "changed key is refused", server: ed, known: []ssh.PublicKey{otherKey(t)}, want: changed, wantPresented: []string{ssh.KeyAlgoED25519}},
		{name: "changed key is refused even with accept new", server: ed, known: []ssh.PublicKey{otherKey(t)}, acceptNew: true, want: changed, wantPresented: []string{ssh.KeyAlgoED25519}},
		{name: "only the RSA key known", server: both, known: []ssh.PublicKey{bothRSA}, want: ok},
		{name: "only the ed25519 key known", server: both, known: []ssh.PublicKey{bothED}, want: ok},
		{name: "known key type gone from the server", server: ed, known: []ssh.PublicKey{bothRSA}, want: changed},
		{name: "pinned key, no known_hosts", server: ed, pin: ssh.FingerprintSHA256(edKey), want: ok},
		{name: "pinned key with base64 padding", server: ed, pin: ssh.FingerprintSHA256(edKey) + "=", want: ok},
		{name: "pinned RSA key the server does not prefer", server: both, pin: ssh.FingerprintSHA256(bothRSA), want: ok},
		{name: "pinned ed25519 key the server does not prefer", server: both, pin: ssh.FingerprintSHA256(bothED), want: ok},
		{name: "pinned key wins over known_hosts", server: ed, known: []ssh.PublicKey{otherKey(t)}, pin: ssh.FingerprintSHA256(edKey), want: ok},
		{
			name: "wrong pinned key is refused after every key is seen", server: both, pin: ssh.FingerprintSHA256(otherKey(t)), acceptNew: true,
			want: changed, wantPresented: []string{ssh.KeyAlgoRSA, ssh.KeyAlgoED25519},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "dir", "known_hosts")
			if tc.known != nil {
				kh = tc.server.knownHosts(t, tc.known...)
			}
			if tc.otherHost != nil {
				line := knownhosts.Line([]string{"[127.0.0.1]:1"}, tc.otherHost) + "\n"
				if err := os.MkdirAll(filepath.Dir(kh), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(kh)
			ran := len(tc.server.sshd.Commands(t))
			target := tc.server.target
			target.HostKey = tc.pin
			r, err := remote.Dial(context.Background(), target, remote.Options{Auth: tc.server.auth, KnownHosts: kh, AcceptNewHostKey: tc.acceptNew, DryRun: tc.dryRun})

			var ue *remote.UnknownHostError
			var ce *remote.HostKeyChangedError
			switch tc.want {
			case ok:
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if _, err := r.Run(context.Background(), "true", nil); err != nil {
					t.Fatal(err)
				}
			case unknown:
				if !errors.As(err, &ue) {
					t.Fatalf("got %v, want an *UnknownHostError", err)
				}
				if diff := cmp.Diff(ssh.FingerprintSHA256(tc.server.sshd.HostKeys()[0]), ssh.FingerprintSHA256(ue.Key)); diff != "" {
					t.Errorf("presented key (-want +got):\n%s", diff)
				}
			case changed:
				if !errors.As(err, &ce) {
					t.Fatalf("got %v, want a *HostKeyChangedError", err)
				}
				var got []string
				for _, k := range ce.Presented {
					got = append(got, k.Type())
				}
				if diff := cmp.Diff(tc.wantPresented, got); diff != "" {
					t.Errorf("presented key types (-want +got):\n%s", diff)
				}
				if !strings.Contains(err.Error(), "ssh "+target.String()+": host key") {
					t.Errorf("error %q does not name the target", err)
				}
			}
			if tc.want != ok {
				if got := tc.server.sshd.Commands(t)[ran:]; len(got) != 0 {
					t.Errorf("commands ran on a refused host: %q", got)
				}
			}

			after, _ := os.ReadFile(kh)
			if !tc.wantRecorded {
				if diff := cmp.Diff(string(before), string(after)); diff != "" {
					t.Errorf("known_hosts changed (-before +after):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(string(before)+tc.server.sshd.KnownHostsLine(tc.server.sshd.HostKeys()[0]), string(after)); diff != "" {
				t.Errorf("known_hosts (-want +got):\n%s", diff)
			}
			if fi, err := os.Stat(kh); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("known_hosts: %v, mode %v, want 0600", err, fi.Mode().Perm())
			}
			// Now known: the next dial needs no flag.
			r2, err := remote.Dial(context.Background(), target, remote.Options{Auth: tc.server.auth, KnownHosts: kh})
			if err != nil {
				t.Fatalf("second dial: %v", err)
			}
			r2.Close()
		})
	}
}

// TestAcceptNewAppendsToExistingFile checks that recording a key keeps the
// file's other lines, even without a final newline.
func TestAcceptNewAppendsToExistingFile(t *testing.T) {
	t.Parallel()
	a, b := startServer(t), startServer(t)
	// A file without a final newline, as editors leave them.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := strings.TrimSuffix(a.sshd.KnownHostsLine(a.sshd.HostKeys()[0]), "\n")
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := remote.Dial(context.Background(), b.target, remote.Options{Auth: b.auth, KnownHosts: kh, AcceptNewHostKey: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	got, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	want := line + "\n" + b.sshd.KnownHostsLine(b.sshd.HostKeys()[0])
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("known_hosts (-want +got):\n%s", diff)
	}
	for _, s := range []*server{a, b} {
		r, err := remote.Dial(context.Background(), s.target, remote.Options{Auth: s.auth, KnownHosts: kh})
		if err != nil {
			t.Fatalf("dial %s: %v", s.target, err)
		}
		r.Close()
	}
}
