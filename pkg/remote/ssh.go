package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options are how to reach machines; they are the same for every Target.
type Options struct {
	// Auth proves who kcloud is.
	Auth *Auth
	// KnownHosts is the known_hosts file that vouches for the machines
	// whose Target pins no HostKey. It need not exist yet.
	KnownHosts string
	// AcceptNewHostKey trusts the key of a machine KnownHosts does not
	// know, and records it there. A changed key is refused all the same.
	AcceptNewHostKey bool
	// DryRun makes AcceptNewHostKey trust a new key for this connection
	// only, without recording it.
	DryRun bool
	// ConnectTimeout bounds the TCP connect and the SSH handshake; 30s when
	// zero.
	ConnectTimeout time.Duration
}

// Dial connects to t and verifies its host key before anything runs: the
// pinned t.HostKey when set, else o.KnownHosts. Errors are prefixed with
// "ssh user@host:port"; verification failures are *UnknownHostError and
// *HostKeyChangedError, refused credentials *AuthError.
func Dial(ctx context.Context, t Target, o Options) (Runner, error) {
	t = t.withDefaults()
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 30 * time.Second
	}
	if o.Auth == nil {
		return nil, fmt.Errorf("ssh %s: no credentials", t)
	}
	var (
		client *ssh.Client
		err    error
	)
	if t.HostKey != "" {
		client, err = dialPinned(ctx, t, o)
	} else {
		client, err = dialKnownHosts(ctx, t, o)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", t, err)
	}
	zerolog.Ctx(ctx).Debug().Str("target", t.String()).Msg("ssh connected")
	return &sshRunner{target: t, client: client}, nil
}

// dialPinned accepts only the key with the pinned fingerprint. A machine
// shows one key per handshake, its favourite among the types offered, so a
// mismatch is retried without that key's type until the machine runs out
// of types.
func dialPinned(ctx context.Context, t Target, o Options) (*ssh.Client, error) {
	var shown []ssh.PublicKey
	errMismatch := errors.New("host key does not match the pinned fingerprint")
	for {
		algos := pinnedAlgorithms(shown)
		if len(algos) == 0 {
			break
		}
		var got ssh.PublicKey
		check := func(_ string, _ net.Addr, key ssh.PublicKey) error {
			got = key
			if pinnedMatches(t.HostKey, key) {
				return nil
			}
			return errMismatch
		}
		client, err := connect(ctx, t, o, check, algos)
		switch {
		case err == nil:
			return client, nil
		case errors.Is(err, errMismatch):
			shown = append(shown, got)
			continue
		case got == nil && len(shown) > 0 && isNoCommonHostKeyAlgorithm(err):
			// The machine has no other key type left to show.
		default:
			return nil, err
		}
		break
	}
	return nil, &HostKeyChangedError{Target: t, Presented: shown, Pinned: t.HostKey}
}

// dialKnownHosts checks the key against the known_hosts file, offering only
// the algorithms of the keys it lists for the machine.
func dialKnownHosts(ctx context.Context, t Target, o Options) (*ssh.Client, error) {
	kh, err := openKnownHosts(o.KnownHosts)
	if err != nil {
		return nil, err
	}
	known, cas := kh.split(kh.keysFor(t.Addr()))
	var verifyErr error
	check := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := kh.check(hostname, remote, key)
		var ke *knownhosts.KeyError
		if err != nil && len(cas) > 0 {
			plain, _ := kh.split(keyErrWant(err))
			if _, isCert := key.(*ssh.Certificate); isCert || len(plain) == 0 {
				e := &HostCertificateError{Target: t, Presented: key, KnownHosts: kh.file, CAs: cas}
				if isCert {
					e.Err = err
				}
				verifyErr = e
				return verifyErr
			}
		}
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) == 0:
			if !o.AcceptNewHostKey {
				verifyErr = &UnknownHostError{Target: t, KnownHosts: kh.file, Key: key}
				return verifyErr
			}
			log := zerolog.Ctx(ctx).Info().Str("target", t.String()).Str("key", describeKey(key))
			if o.DryRun {
				log.Msg("accepting new host key for this run only (dry run)")
				return nil
			}
			if err := kh.record(t.Addr(), key); err != nil {
				verifyErr = err
				return err
			}
			log.Str("file", kh.file).Msg("recorded new host key")
			return nil
		case errors.As(err, &ke):
			plain, _ := kh.split(ke.Want)
			verifyErr = &HostKeyChangedError{Target: t, Presented: []ssh.PublicKey{key}, KnownHosts: kh.file, Known: plain}
			return verifyErr
		default:
			verifyErr = fmt.Errorf("host key: %w", err)
			return verifyErr
		}
	}
	client, err := connect(ctx, t, o, check, algorithmsFor(known, cas))
	switch {
	case verifyErr != nil:
		return nil, verifyErr
	case err != nil && len(cas) > 0 && len(known) == 0 && isNoCommonHostKeyAlgorithm(err):
		return nil, &HostCertificateError{Target: t, KnownHosts: kh.file, CAs: cas}
	case err != nil && len(known) > 0 && isNoCommonHostKeyAlgorithm(err):
		return nil, &HostKeyChangedError{Target: t, KnownHosts: kh.file, Known: known}
	}
	return client, err
}

// keyErrWant is the known keys a knownhosts refusal lists.
func keyErrWant(err error) []knownhosts.KnownKey {
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) {
		return ke.Want
	}
	return nil
}

// connect opens the TCP connection and runs the SSH handshake with the
// given host key check and algorithms (nil: all).
func connect(ctx context.Context, t Target, o Options, check ssh.HostKeyCallback, algos []string) (*ssh.Client, error) {
	d := net.Dialer{Timeout: o.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", t.Addr())
	if err != nil {
		return nil, err
	}
	// A machine that accepts TCP and then says nothing must not hang the
	// command, and neither must a cancelled context.
	_ = conn.SetDeadline(time.Now().Add(o.ConnectTimeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	verified := false
	cfg := &ssh.ClientConfig{
		User: t.User,
		Auth: []ssh.AuthMethod{o.Auth.method},
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			if err := check(hostname, remote, key); err != nil {
				return err
			}
			verified = true
			return nil
		},
		HostKeyAlgorithms: algos,
		Timeout:           o.ConnectTimeout,
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, t.Addr(), cfg)
	stopped := stop()
	if err != nil {
		conn.Close()
		if !stopped {
			return nil, ctx.Err()
		}
		if verified && strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &AuthError{Target: t, Source: o.Auth.String(), Err: err}
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

func isNoCommonHostKeyAlgorithm(err error) bool {
	return strings.Contains(err.Error(), "no common algorithm for host key")
}

// sshRunner is a Runner over one SSH connection.
type sshRunner struct {
	target Target
	client *ssh.Client
}

var _ Runner = (*sshRunner)(nil)

// Output kept for errors.
const (
	tailLines = 20
	tailBytes = 4 << 10
)

func (r *sshRunner) Run(ctx context.Context, cmd string, stdin io.Reader) ([]byte, error) {
	zerolog.Ctx(ctx).Debug().Str("target", r.target.String()).Str("cmd", cmd).Msg("ssh run")
	fail := func(status int, err error, stdout, stderr []byte) error {
		out := stderr
		if len(bytes.TrimSpace(out)) == 0 {
			out = stdout
		}
		return &CommandError{Target: r.target, Command: cmd, ExitStatus: status, Output: tail(out, tailLines, tailBytes), Err: err}
	}
	sess, err := r.client.NewSession()
	if err != nil {
		return nil, fail(-1, fmt.Errorf("open session: %w", err), nil, nil)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdin = stdin
	sess.Stdout = &stdout
	sess.Stderr = &stderr
	if err := sess.Start(r.asRoot(cmd)); err != nil {
		return nil, fail(-1, err, nil, nil)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Without a terminal sshd lets the command run on; ask it to stop
		// and stop listening. The output buffers still belong to the
		// session, so the error carries none.
		_ = sess.Signal(ssh.SIGTERM)
		sess.Close()
		return nil, fail(-1, ctx.Err(), nil, nil)
	}
	var exit *ssh.ExitError
	switch {
	case err == nil:
		return stdout.Bytes(), nil
	case errors.As(err, &exit) && exit.Signal() == "":
		return nil, fail(exit.ExitStatus(), err, stdout.Bytes(), stderr.Bytes())
	case errors.As(err, new(*ssh.ExitMissingError)):
		// No exit status: the connection (or the server's session) went
		// away while the command ran; it may have half-finished.
		return nil, fail(-1, fmt.Errorf("the connection dropped before the command finished, which may have half-run: %w", err), stdout.Bytes(), stderr.Bytes())
	default:
		return nil, fail(-1, err, stdout.Bytes(), stderr.Bytes())
	}
}

func (r *sshRunner) Copy(ctx context.Context, src io.Reader, path string, mode fs.FileMode) error {
	_, err := r.Run(ctx, copyScript(path, mode), src)
	return err
}

// asRoot wraps cmd in sudo when the login user is not root. -n makes a
// sudo that wants a password fail at once instead of waiting for one.
func (r *sshRunner) asRoot(cmd string) string {
	if r.target.User == "root" {
		return cmd
	}
	return "sudo -n sh -c " + Quote(cmd)
}

func (r *sshRunner) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := r.client.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: forward to %s: %w", r.target, addr, err)
	}
	return conn, nil
}

func (r *sshRunner) Target() Target { return r.target }

func (r *sshRunner) Close() error { return r.client.Close() }
