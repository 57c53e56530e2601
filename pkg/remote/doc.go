// Package remote runs commands and copies files on machines over SSH, as
// root, with verified host keys, and forwards TCP connections through them
// (Runner.DialContext: a node's local API server, reached with nothing but
// SSH open).
//
// A Runner is one connection to one machine. Dial opens it: the host key is
// checked against a pinned SHA256 fingerprint or a known_hosts file before
// anything else happens, and an unknown or changed key stops the dial with a
// typed error the CLI turns into advice. Commands run through sh, wrapped in
// sudo when the login user is not root; their errors carry the target, the
// command, its exit status and the tail of its output, never the data sent
// on stdin.
//
// # Files
//
//   - auth.go: SSH credentials: key file, $VPS_SSH_KEY, agent
//   - hostkey.go: host key checks: pins, known_hosts, certificates; their errors
//   - runner.go: Runner, Target, CommandError, Quote
//   - ssh.go: Dial and the SSH Runner
package remote
