package remote

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// The environment variables Auth reads.
const (
	// EnvSSHKey holds a private key itself, the way CI secrets arrive.
	EnvSSHKey = "VPS_SSH_KEY"
	// EnvAuthSock is the ssh-agent socket.
	EnvAuthSock = "SSH_AUTH_SOCK"
)

// ErrNoCredentials is NewAuth finding no source of keys at all.
var ErrNoCredentials = errors.New("no SSH credentials")

// Auth is how kcloud proves who it is to every machine: one source of keys,
// chosen once.
type Auth struct {
	source string
	method ssh.AuthMethod
	closer io.Closer
}

// NewAuth picks the first source of keys that is there: keyFile (a private
// key file), then the key in $VPS_SSH_KEY, then the ssh-agent at
// $SSH_AUTH_SOCK. One source only, so an error says which key was refused.
// Keys with a passphrase are refused: kcloud never prompts; load them into
// an agent.
func NewAuth(keyFile string, lookupEnv func(string) (string, bool)) (*Auth, error) {
	if keyFile != "" {
		pem, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("ssh key: %w", err)
		}
		return keyAuth("key file "+keyFile, pem)
	}
	if v, ok := lookupEnv(EnvSSHKey); ok && strings.TrimSpace(v) != "" {
		return keyAuth("key in $"+EnvSSHKey, []byte(envKey(v)))
	}
	if sock, ok := lookupEnv(EnvAuthSock); ok && sock != "" {
		return agentAuth(sock)
	}
	return nil, fmt.Errorf("%w: give a private key file, set $%s to a private key, or run an ssh-agent ($%s)", ErrNoCredentials, EnvSSHKey, EnvAuthSock)
}

// envKey undoes what CI variables do to a key: surrounding blanks, and
// newlines stored as the two characters \n.
func envKey(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "\n") && strings.Contains(v, `\n`) {
		v = strings.ReplaceAll(v, `\n`, "\n")
	}
	return v + "\n"
}

func keyAuth(source string, pem []byte) (*Auth, error) {
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		var pe *ssh.PassphraseMissingError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("ssh %s: the key has a passphrase and kcloud never prompts; load it into ssh-agent or use a deploy key without one", source)
		}
		// The parser's errors describe the format, never the key bytes.
		return nil, fmt.Errorf("ssh %s: not a private key: %w", source, err)
	}
	return &Auth{
		source: fmt.Sprintf("%s (%s)", source, describeKey(signer.PublicKey())),
		method: ssh.PublicKeys(signer),
	}, nil
}

func agentAuth(sock string) (*Auth, error) {
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("ssh-agent at $%s: %w", EnvAuthSock, err)
	}
	ag := agent.NewClient(conn)
	signers, err := ag.Signers()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh-agent at $%s: list keys: %w", EnvAuthSock, err)
	}
	if len(signers) == 0 {
		conn.Close()
		return nil, fmt.Errorf("ssh-agent at $%s holds no keys; add one with ssh-add", EnvAuthSock)
	}
	keys := make([]string, len(signers))
	for i, s := range signers {
		keys[i] = describeKey(s.PublicKey())
	}
	return &Auth{
		source: fmt.Sprintf("ssh-agent at $%s (%s)", EnvAuthSock, strings.Join(keys, ", ")),
		method: ssh.PublicKeysCallback(ag.Signers),
		closer: conn,
	}, nil
}

// String names the source and the public keys it offers.
func (a *Auth) String() string { return a.source }

// Close releases the agent connection, if any.
func (a *Auth) Close() error {
	if a.closer == nil {
		return nil
	}
	return a.closer.Close()
}

// AuthError is a machine refusing every key kcloud offered.
type AuthError struct {
	Target Target
	// Source names the keys offered: where they came from and their
	// fingerprints.
	Source string
	Err    error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("the server refused %s for user %s: %v", e.Source, e.Target.User, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// describeKey is a public key's type and fingerprint: what ssh-keygen -l
// shows, safe to print.
func describeKey(k ssh.PublicKey) string {
	return k.Type() + " " + ssh.FingerprintSHA256(k)
}
