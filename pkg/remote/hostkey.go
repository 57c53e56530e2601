package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// UnknownHostError is a machine whose host key nothing vouches for: no
// known_hosts line and no pinned fingerprint.
type UnknownHostError struct {
	Target Target
	// KnownHosts is the file that was searched.
	KnownHosts string
	// Key is the key the machine presented.
	Key ssh.PublicKey
}

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("unknown host key: %s is not in %s and no hostKey pins it; it presented %s",
		knownhosts.Normalize(e.Target.Addr()), e.KnownHosts, describeKey(e.Key))
}

// HostKeyChangedError is a machine presenting a key other than the one
// kcloud knows for it. Nothing skips this check.
type HostKeyChangedError struct {
	Target Target
	// Presented are the keys the machine showed; empty when it offered no
	// key of a known type.
	Presented []ssh.PublicKey
	// Pinned is the fingerprint the spec pins, if it pins one.
	Pinned string
	// KnownHosts is the file, and Known its lines for this machine, when
	// no fingerprint is pinned.
	KnownHosts string
	Known      []knownhosts.KnownKey
}

func (e *HostKeyChangedError) Error() string {
	presented := make([]string, len(e.Presented))
	for i, k := range e.Presented {
		presented[i] = describeKey(k)
	}
	if e.Pinned != "" {
		return fmt.Sprintf("host key mismatch: the spec pins hostKey %s, but the machine presented %s",
			e.Pinned, strings.Join(presented, ", "))
	}
	known := make([]string, len(e.Known))
	for i, k := range e.Known {
		known[i] = fmt.Sprintf("%s:%d has %s", k.Filename, k.Line, describeKey(k.Key))
	}
	if len(presented) == 0 {
		return fmt.Sprintf("host key changed: %s, and the machine offers no key of that type",
			strings.Join(known, "; "))
	}
	return fmt.Sprintf("host key changed: the machine presented %s, but %s",
		strings.Join(presented, ", "), strings.Join(known, "; "))
}

// HostCertificateError is a machine whose known_hosts entries are
// certificate authorities, and which presented no certificate they sign.
type HostCertificateError struct {
	Target Target
	// Presented is what the machine showed: a plain key, or a certificate
	// that did not verify (Err says why).
	Presented ssh.PublicKey
	Err       error
	// KnownHosts is the file, and CAs its @cert-authority lines for the
	// machine.
	KnownHosts string
	CAs        []knownhosts.KnownKey
}

func (e *HostCertificateError) Error() string {
	cas := make([]string, len(e.CAs))
	for i, k := range e.CAs {
		cas[i] = fmt.Sprintf("%s:%d", k.Filename, k.Line)
	}
	if e.Err != nil {
		return fmt.Sprintf("host certificate refused: %v (certificate authorities: %s)", e.Err, strings.Join(cas, ", "))
	}
	shown := "offers no host certificate"
	if e.Presented != nil {
		shown = "presented the plain key " + describeKey(e.Presented) + " and no certificate signed by them"
	}
	return fmt.Sprintf("host certificate required: %s trusts certificate authorities for this machine, but it %s; configure sshd's HostCertificate, or pin the key with hostKey after checking it out of band",
		strings.Join(cas, ", "), shown)
}

// pinnedMatches compares a key with a "SHA256:…" fingerprint; base64
// padding is optional in the spec.
func pinnedMatches(pin string, key ssh.PublicKey) bool {
	return strings.TrimRight(pin, "=") == strings.TrimRight(ssh.FingerprintSHA256(key), "=")
}

// keyAlgorithms are the host key algorithms that prove a key of keyType,
// strongest first. SHA-1 ssh-rsa signatures are never offered.
func keyAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{keyType}
}

// keyTypeOf is the key type an algorithm signs with.
func keyTypeOf(algo string) string {
	switch algo {
	case ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512:
		return ssh.KeyAlgoRSA
	}
	return algo
}

// pinnedAlgorithms are the plain-key host key algorithms, without those of
// key types the machine has already shown: asking again for another type
// is how a pinned key that is not the machine's favourite gets found.
func pinnedAlgorithms(shown []ssh.PublicKey) []string {
	var out []string
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if strings.Contains(a, "-cert-") {
			continue
		}
		if slices.ContainsFunc(shown, func(k ssh.PublicKey) bool { return k.Type() == keyTypeOf(a) }) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// knownHosts is a known_hosts file opened for one dial.
type knownHosts struct {
	file  string
	check ssh.HostKeyCallback
	// lines are the file's lines, to tell @cert-authority entries apart.
	lines []string
}

// isCA reports whether a known key comes from a @cert-authority line.
func (k *knownHosts) isCA(key knownhosts.KnownKey) bool {
	if key.Filename != k.file || key.Line < 1 || key.Line > len(k.lines) {
		return false
	}
	return strings.HasPrefix(strings.TrimSpace(k.lines[key.Line-1]), "@cert-authority")
}

// split separates plain known keys from certificate authorities.
func (k *knownHosts) split(known []knownhosts.KnownKey) (plain, cas []knownhosts.KnownKey) {
	for _, key := range known {
		if k.isCA(key) {
			cas = append(cas, key)
		} else {
			plain = append(plain, key)
		}
	}
	return plain, cas
}

// hashed reports whether the file names hosts by hash (HashKnownHosts).
func (k *knownHosts) hashed() bool {
	return slices.ContainsFunc(k.lines, func(l string) bool { return strings.HasPrefix(l, "|1|") })
}

func openKnownHosts(file string) (*knownHosts, error) {
	var files, lines []string
	if data, err := os.ReadFile(file); err == nil {
		files = append(files, file)
		lines = strings.Split(string(data), "\n")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("known hosts: %w", err)
	}
	// knownhosts.New verifies host certificates against the file's
	// @cert-authority lines (ssh.CertChecker with IsHostAuthority).
	check, err := knownhosts.New(files...)
	if err != nil {
		return nil, fmt.Errorf("known hosts: %w", err)
	}
	return &knownHosts{file: file, check: check, lines: lines}, nil
}

// keysFor lists the file's keys for addr. knownhosts has no lookup, so it
// is asked to check a key no line can hold; its refusal lists them all.
func (k *knownHosts) keysFor(addr string) []knownhosts.KnownKey {
	err := k.check(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey{})
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) {
		return ke.Want
	}
	return nil
}

// algorithmsFor are the host key algorithms to offer a machine with these
// known keys, so it proves a key that can be checked rather than its
// favourite one: certificates first when a certificate authority is known.
// Nil (every algorithm) when none are known.
func algorithmsFor(plain, cas []knownhosts.KnownKey) []string {
	var out []string
	if len(cas) > 0 {
		for _, a := range ssh.SupportedAlgorithms().HostKeys {
			if strings.Contains(a, "-cert-") {
				out = append(out, a)
			}
		}
	}
	for _, k := range plain {
		for _, a := range keyAlgorithms(k.Key.Type()) {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// probeKey is a public key of a type no known_hosts line has.
type probeKey struct{}

func (probeKey) Type() string    { return "kcloud-probe@kcloud.dev" }
func (probeKey) Marshal() []byte { return []byte("kcloud-probe@kcloud.dev") }
func (probeKey) Verify([]byte, *ssh.Signature) error {
	return errors.New("a probe key verifies nothing")
}

// recordMu serialises appends to known_hosts by parallel dials.
var recordMu sync.Mutex

// record appends addr's key to the known_hosts file, creating it (0600) and
// its directory (0700) when missing.
func (k *knownHosts) record(addr string, key ssh.PublicKey) error {
	recordMu.Lock()
	defer recordMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(k.file), 0o700); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	host := knownhosts.Normalize(addr)
	if k.hashed() {
		// The file hides its host names; so does the new line.
		host = knownhosts.HashHostname(host)
	}
	line := knownhosts.Line([]string{host}, key) + "\n"
	if old, err := os.ReadFile(k.file); err == nil && len(old) > 0 && old[len(old)-1] != '\n' {
		line = "\n" + line
	}
	f, err := os.OpenFile(k.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("record host key in %s: %w", k.file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("record host key in %s: %w", k.file, err)
	}
	return nil
}
