package remote

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"
)

// Runner runs commands on one machine, as root.
type Runner interface {
	// Run runs cmd with sh on the machine as root, feeding it stdin (nil
	// for none), and returns what it wrote to standard output. A command
	// that fails is a *CommandError.
	Run(ctx context.Context, cmd string, stdin io.Reader) ([]byte, error)
	// Copy writes what r holds to path on the machine as root, with mode,
	// creating missing directories (0700). The file is replaced in one
	// rename, so readers see the old content or the new, and the content
	// never sits in a file more open than mode.
	Copy(ctx context.Context, r io.Reader, path string, mode fs.FileMode) error
	// DialContext opens a TCP connection from the machine to addr
	// (host:port as the machine sees it), through the SSH connection:
	// kcloud reaches a node's local API server this way, with nothing
	// but SSH open to it.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	// Target is the machine the Runner reaches.
	Target() Target
	// Close ends the connection.
	Close() error
}

// Target is a machine to reach over SSH.
type Target struct {
	User string
	Host string
	Port int
	// HostKey pins the machine's host key by its SHA256 fingerprint
	// ("SHA256:…"). Empty means the known_hosts file decides.
	HostKey string
}

// Addr is host:port, as dialled and as known_hosts files name it.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// String is user@host:port, the way errors name a machine.
func (t Target) String() string { return t.User + "@" + t.Addr() }

// withDefaults fills the SSH defaults: root on port 22.
func (t Target) withDefaults() Target {
	if t.User == "" {
		t.User = "root"
	}
	if t.Port == 0 {
		t.Port = 22
	}
	return t
}

// CommandError is a command that failed on a machine.
type CommandError struct {
	Target  Target
	Command string
	// ExitStatus is the command's exit status, or -1 when it did not exit
	// (killed by a signal, connection lost, context cancelled).
	ExitStatus int
	// Output is the tail of what the command wrote to standard error, or to
	// standard output when it wrote nothing to standard error.
	Output string
	// Err is the underlying error.
	Err error
}

func (e *CommandError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ssh %s: run %q: ", e.Target, e.Command)
	if e.ExitStatus >= 0 {
		fmt.Fprintf(&b, "exit status %d", e.ExitStatus)
	} else {
		b.WriteString(e.Err.Error())
	}
	if e.Output != "" {
		b.WriteString("; output ends with:")
		for _, line := range strings.Split(e.Output, "\n") {
			b.WriteString("\n    ")
			b.WriteString(line)
		}
	}
	return b.String()
}

func (e *CommandError) Unwrap() error { return e.Err }

// Quote returns s as one sh word.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// copyScript is the sh command Copy runs: the umask keeps the content
// private until the final chmod, and mv makes the switch atomic.
func copyScript(path string, mode fs.FileMode) string {
	dir := path[:max(strings.LastIndex(path, "/"), 0)]
	if dir == "" {
		dir = "/"
	}
	tmp := path + ".kcloud-tmp"
	return fmt.Sprintf("umask 077 && mkdir -p %s && cat > %s && chmod %04o %s && mv -f %s %s",
		Quote(dir), Quote(tmp), mode.Perm(), Quote(tmp), Quote(tmp), Quote(path))
}

// tail returns the last lines of out, at most maxLines lines and maxBytes
// bytes, without trailing blank lines.
func tail(out []byte, maxLines, maxBytes int) string {
	s := strings.TrimRight(string(out), " \t\r\n")
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	lines := strings.Split(s, "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return strings.Join(lines, "\n")
}
