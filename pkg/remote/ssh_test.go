package remote_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/remote"
)

// server is an sshd and everything a client needs to reach it.
type server struct {
	sshd   *testenv.SSHD
	key    *testenv.ClientKey
	auth   *remote.Auth
	target remote.Target
}

func startServer(t *testing.T, hostKeyTypes ...string) *server {
	t.Helper()
	key := testenv.NewClientKey(t)
	sshd := testenv.StartSSHD(t, testenv.SSHDOptions{HostKeyTypes: hostKeyTypes, AuthorizedKeys: []ssh.PublicKey{key.Public}})
	auth, err := remote.NewAuth(key.Path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	return &server{sshd: sshd, key: key, auth: auth, target: remote.Target{User: sshd.User, Host: sshd.Host, Port: sshd.Port}}
}

// knownHosts writes a known_hosts file vouching for keys at s.
func (s *server) knownHosts(t *testing.T, keys ...ssh.PublicKey) string {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(s.sshd.KnownHostsLine(k))
	}
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dial connects with s's key and the server's ed25519 key known.
func (s *server) dial(t *testing.T) remote.Runner {
	t.Helper()
	r, err := remote.Dial(context.Background(), s.target, remote.Options{Auth: s.auth, KnownHosts: s.knownHosts(t, s.sshd.HostKeys()[0])})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func noEnv(string) (string, bool) { return "", false }

func TestRun(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := s.dial(t)
	tests := []struct {
		name  string
		cmd   string
		stdin string
		want  string
		// wantErr, when set, is the *CommandError expected, without its
		// Target and Err.
		wantErr *remote.CommandError
	}{
		{name: "stdout", cmd: "echo hello; echo warn >&2", want: "hello\n"},
		{name: "stdin", cmd: "tr a-z A-Z", stdin: "secret-ish\n", want: "SECRET-ISH\n"},
		{name: "runs as root", cmd: "id -u", want: "0\n"},
		{
			name:    "failure keeps the tail of stderr",
			cmd:     "echo progress; for i in $(seq 1 30); do echo line $i >&2; done; exit 3",
			wantErr: &remote.CommandError{Command: "echo progress; for i in $(seq 1 30); do echo line $i >&2; done; exit 3", ExitStatus: 3, Output: tailLines(11, 30)},
		},
		{
			name:    "failure without stderr keeps stdout",
			cmd:     "echo only stdout; false",
			wantErr: &remote.CommandError{Command: "echo only stdout; false", ExitStatus: 1, Output: "only stdout"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdin io.Reader
			if tc.stdin != "" {
				stdin = strings.NewReader(tc.stdin)
			}
			out, err := r.Run(context.Background(), tc.cmd, stdin)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, string(out)); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
				return
			}
			var ce *remote.CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CommandError", err)
			}
			got := *ce
			got.Target, got.Err = remote.Target{}, nil
			if diff := cmp.Diff(*tc.wantErr, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			for _, part := range []string{"ssh " + s.target.String() + ": ", `run "` + tc.wantErr.Command, "exit status"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func tailLines(from, to int) string {
	var lines []string
	for i := from; i <= to; i++ {
		lines = append(lines, "line "+strconv.Itoa(i))
	}
	return strings.Join(lines, "\n")
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := s.dial(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Run returns at once; the sleep itself outlives it for a while, as
	// sshd refuses signals to forced-command sessions like the harness's.
	_, err := r.Run(ctx, "sleep 5", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestCopy(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := s.dial(t)
	dir := t.TempDir()
	testenv.Reclaim(t, dir)
	tests := []struct {
		name    string
		path    string
		content string
		mode    string
	}{
		{name: "private file in new directories", path: filepath.Join(dir, "a", "b", "token"), content: "K10abc::server:def\n", mode: "600"},
		{name: "executable", path: filepath.Join(dir, "install.sh"), content: "#!/bin/sh\necho hi\n", mode: "700"},
		{name: "replaces a wider file", path: filepath.Join(dir, "wide"), content: "new\n", mode: "600"},
	}
	if err := os.WriteFile(filepath.Join(dir, "wide"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mode, err := strconv.ParseUint(tc.mode, 8, 32)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Copy(context.Background(), strings.NewReader(tc.content), tc.path, os.FileMode(mode)); err != nil {
				t.Fatal(err)
			}
			// Read back as root: the file belongs to root, whoever logged in.
			got, err := r.Run(context.Background(), "stat -c '%a %u' "+remote.Quote(tc.path)+" && cat "+remote.Quote(tc.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.mode+" 0\n"+tc.content, string(got)); diff != "" {
				t.Errorf("mode, owner and content (-want +got):\n%s", diff)
			}
		})
	}
	for _, c := range s.sshd.Commands(t) {
		for _, tc := range tests {
			if strings.Contains(c, strings.TrimSpace(tc.content)) {
				t.Errorf("command %q carries the content of %s", c, tc.path)
			}
		}
	}
}
