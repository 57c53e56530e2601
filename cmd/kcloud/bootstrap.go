package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"k8s.io/client-go/tools/clientcmd"

	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/remote"
	"kcloud.dev/kcloud/pkg/spec"
)

// bootstrapFlags are bootstrap's flags.
type bootstrapFlags struct {
	sshKey, knownHosts, installer, kubeconfigOut, nodeRoot string
	acceptNewHostKey, merge, dryRun                        bool
	removeNodes, forceDrain                                bool
	timeout, connectTimeout, drainTimeout                  time.Duration
}

const bootstrapLong = `bootstrap reads the Cluster spec (default specs/), connects to every node over
SSH, and brings K3s to the spec's version or channel and flags: the first
server initialises the cluster (--cluster-init when there are several
servers), the other servers join it one at a time, the agents join in
parallel, and each node must turn Ready (k3s kubectl get node NAME on the
first server) within --timeout. A node already at the spec's release and
flags is left alone: a second run changes nothing. --dry-run prints the plan
and every step it would take, per node, and runs nothing but read-only
probes.

Before it changes a running node (an upgrade, new flags, a removal) it takes
a snapshot of the datastore on the first server (k3s etcd-snapshot save, or
a copy of SQLite's database directory and token with K3s stopped), keeps the
newest k3s.snapshots.retain of its own, and prints the snapshot's name; a
failed snapshot stops the run before any node changes. It refuses an
upgrade that skips a minor version or goes down, and never makes an agent
newer than the servers. Then, one node at a time, servers first, it cordons
the node, drains it through the Eviction API (PodDisruptionBudgets honoured,
DaemonSet pods left, within --drain-timeout; --force-drain also deletes pods
no controller owns), upgrades it, waits for Ready and uncordons it. A
failure leaves the node cordoned and says why; the next run continues.

A node kcloud joined that is gone from the spec's nodes: is listed and
refused (exit 1) unless --remove-nodes, which drains it, runs K3s's own
uninstall script on it and deletes it from the cluster; never the cluster's
last server, never a removal that would cost embedded etcd its quorum.
'kcloud bootstrap restore' puts the cluster back to a snapshot.

On a terminal, one live line per node shows its step and the time since it
began; log lines print above them. Elsewhere (pipes, CI=true, --log-format
json) each step is a plain line "NODE: step".

SSH credentials come from --ssh-key FILE, else $VPS_SSH_KEY (the private key
itself, as CI secrets arrive), else ssh-agent ($SSH_AUTH_SOCK). Host keys are
always verified, before anything runs: a node's hostKey: SHA256:… in the spec
pins its key, otherwise --known-hosts vouches for it. An unknown host is
refused unless --accept-new-host-key, which records its key; a changed key is
always refused. The API server is reached through the SSH connection to the
first server.

The kubeconfig is K3s's admin kubeconfig with the server's host replaced by
the Cluster's apiEndpoint, and cluster, context and user named after the
Cluster; it is written 0600 to --kubeconfig-out, or with --merge into
--kubeconfig, $KUBECONFIG's first file or ~/.kube/config.

Exit 0 when every node is up to date and Ready, 1 on any error.`

func newBootstrapCmd(g *globals) *cobra.Command {
	var flags bootstrapFlags
	cmd := &cobra.Command{
		Use:   "bootstrap [DIR...]",
		Short: "Install, upgrade, grow or shrink K3s on the Cluster's nodes over SSH, and write the kubeconfig",
		Long:  bootstrapLong,
		Example: `  kcloud bootstrap specs/ --dry-run
  VPS_HOST=203.0.113.10 kcloud bootstrap specs/ --ssh-key ~/.ssh/id_ed25519 --kubeconfig-out kubeconfig
  kcloud bootstrap specs/ --remove-nodes`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := flags.options(g, cmd.Flags().Changed("kubeconfig-out"))
			if err != nil {
				return err
			}
			cluster, auth, err := flags.connect(cmd, g, args, &opts)
			if err != nil {
				return err
			}
			defer auth.Close()
			onEvent, ctx, finish := bootstrapProgress(cmd.Context(), g, len(cluster.Nodes))
			opts.OnEvent = onEvent
			res, err := bootstrap.Run(ctx, cluster, opts)
			finish(err)
			if err != nil {
				return withCode(exitFailed, sshAdvice(err, cluster))
			}
			return printer.BootstrapResult(g.stdout, res)
		},
	}
	flags.register(cmd.Flags(), true)
	cmd.AddCommand(newBootstrapRestoreCmd(g))
	return cmd
}

// register adds the flags; full adds those of bootstrap itself, beyond
// the SSH and readiness flags restore shares.
func (f *bootstrapFlags) register(fs *pflag.FlagSet, full bool) {
	fs.StringVar(&f.sshKey, "ssh-key", "", "private key file to log in with (default $VPS_SSH_KEY, then ssh-agent)")
	fs.StringVar(&f.knownHosts, "known-hosts", "", "known_hosts file that vouches for nodes without a hostKey in the spec (default ~/.ssh/known_hosts)")
	fs.BoolVar(&f.acceptNewHostKey, "accept-new-host-key", false, "trust the host key of a node the known_hosts file does not know, and record it there (a changed key is still refused)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long to wait for each node to be Ready")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 30*time.Second, "how long to wait for each node's SSH connection and handshake")
	// A test hook: stand-in nodes on one machine keep their K3s files apart.
	fs.StringVar(&f.nodeRoot, "node-root", "", "keep each node's K3s files under DIR/<node> (tests)")
	_ = fs.MarkHidden("node-root")
	f.drainTimeout = 5 * time.Minute
	if !full {
		return
	}
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and every step per node; run nothing on the nodes but read-only probes")
	fs.StringVar(&f.installer, "installer", "", "K3s install script to upload to the nodes (default: each node fetches "+bootstrap.DefaultInstallerURL+")")
	fs.StringVar(&f.kubeconfigOut, "kubeconfig-out", "kubeconfig", "where to write the cluster's kubeconfig (mode 0600)")
	fs.BoolVar(&f.merge, "merge", false, "merge the cluster's entries into --kubeconfig, $KUBECONFIG's first file or ~/.kube/config (instead of --kubeconfig-out unless that is given too)")
	fs.BoolVar(&f.removeNodes, "remove-nodes", false, "drain, uninstall K3s on and delete from the cluster the nodes gone from the spec (never the last server, never etcd's quorum)")
	fs.BoolVar(&f.forceDrain, "force-drain", false, "let drains delete pods no controller owns (nothing recreates them elsewhere)")
	fs.DurationVar(&f.drainTimeout, "drain-timeout", 5*time.Minute, "how long each node's drain may take; the node stays cordoned when it runs out")
}

// connect loads the Cluster spec and the SSH credentials into opts.
func (f *bootstrapFlags) connect(cmd *cobra.Command, g *globals, args []string, opts *bootstrap.Options) (*bootstrap.Cluster, *remote.Auth, error) {
	s, err := load(cmd.Context(), g, specDirs(args), loadOptions{})
	if err != nil {
		return nil, nil, err
	}
	tree := s.tree
	if err := reportDiagnostics(g, tree.MissingVars(os.LookupEnv, spec.SeverityError, false)); err != nil {
		return nil, nil, err
	}
	cluster, err := bootstrap.FromSpec(tree.Cluster, os.LookupEnv)
	if err != nil {
		return nil, nil, withCode(exitFailed, err)
	}
	auth, err := f.auth()
	if err != nil {
		return nil, nil, err
	}
	opts.SSH = remote.Options{Auth: auth, KnownHosts: f.knownHosts, AcceptNewHostKey: f.acceptNewHostKey, ConnectTimeout: f.connectTimeout}
	return cluster, auth, nil
}

// options checks the flags and turns them into bootstrap's options (all
// but SSH's). outChanged says --kubeconfig-out was given.
func (f *bootstrapFlags) options(g *globals, outChanged bool) (bootstrap.Options, error) {
	if f.timeout <= 0 || f.connectTimeout <= 0 {
		return bootstrap.Options{}, withCode(exitUsage, errors.New("--timeout and --connect-timeout must be positive"))
	}
	if f.knownHosts == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return bootstrap.Options{}, withCode(exitUsage, fmt.Errorf("--known-hosts: no default: %w", err))
		}
		f.knownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	if f.drainTimeout <= 0 {
		return bootstrap.Options{}, withCode(exitUsage, errors.New("--drain-timeout must be positive"))
	}
	opts := bootstrap.Options{
		DryRun:        f.dryRun,
		Timeout:       f.timeout,
		KubeconfigOut: f.kubeconfigOut,
		RemoveNodes:   f.removeNodes,
		ForceDrain:    f.forceDrain,
		DrainTimeout:  f.drainTimeout,
	}
	if f.installer != "" {
		var err error
		if opts.Installer, err = os.ReadFile(f.installer); err != nil {
			return bootstrap.Options{}, withCode(exitUsage, fmt.Errorf("--installer: %w", err))
		}
	}
	if f.merge {
		if !outChanged {
			opts.KubeconfigOut = ""
		}
		opts.MergeInto = mergeTarget(g)
	}
	if f.nodeRoot != "" {
		opts.Paths = func(node string) bootstrap.Paths {
			return bootstrap.DefaultPaths().Under(filepath.Join(f.nodeRoot, node))
		}
	}
	return opts, nil
}

// auth finds the SSH credentials: --ssh-key, $VPS_SSH_KEY, ssh-agent.
func (f *bootstrapFlags) auth() (*remote.Auth, error) {
	auth, err := remote.NewAuth(f.sshKey, os.LookupEnv)
	if errors.Is(err, remote.ErrNoCredentials) {
		return nil, withCode(exitFailed, fmt.Errorf("%w: pass --ssh-key FILE, set $%s to the private key itself, or run an ssh-agent ($%s)",
			remote.ErrNoCredentials, remote.EnvSSHKey, remote.EnvAuthSock))
	}
	if err != nil {
		return nil, withCode(exitFailed, err)
	}
	return auth, nil
}

// mergeTarget is the kubeconfig --merge writes: --kubeconfig, else the
// first file of $KUBECONFIG, else ~/.kube/config.
func mergeTarget(g *globals) string {
	if g.kubeconfig != "" {
		return g.kubeconfig
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		if files := filepath.SplitList(env); len(files) > 0 && files[0] != "" {
			return files[0]
		}
	}
	return clientcmd.RecommendedHomeFile
}

// sshAdvice adds what to do to the SSH errors a person must act on.
func sshAdvice(err error, c *bootstrap.Cluster) error {
	var (
		unknown *remote.UnknownHostError
		changed *remote.HostKeyChangedError
		auth    *remote.AuthError
	)
	switch {
	case errors.As(err, &unknown):
		var pins strings.Builder
		for _, u := range allUnknownHosts(err) {
			fmt.Fprintf(&pins, "\n      %s (%s): hostKey: %s", nodeOf(c, u.Target), u.Target, ssh.FingerprintSHA256(u.Key))
		}
		t := unknown.Target
		return fmt.Errorf(`%w

kcloud refuses hosts whose key nothing vouches for. Check each fingerprint
out of band (the provider's console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub),
then do one of:
  - pin it in the Cluster spec, on the node:%s
  - add it to %s, e.g.  ssh-keyscan -p %d %s >> %s  (and compare the fingerprint)
  - rerun with --accept-new-host-key to record it on first use`,
			err, pins.String(), unknown.KnownHosts, t.Port, t.Host, unknown.KnownHosts)
	case errors.As(err, &changed):
		t := changed.Target
		fix := fmt.Sprintf("remove the stale entry with  ssh-keygen -R '%s' -f %s  and rerun (with --accept-new-host-key, or after ssh-keyscan)",
			knownhosts.Normalize(t.Addr()), changed.KnownHosts)
		if changed.Pinned != "" {
			fix = "update the node's hostKey: in the Cluster spec to the new fingerprint"
		}
		return fmt.Errorf(`%w

The node's host key is not the one kcloud knows for it. Either someone is
intercepting the connection, or the machine was reinstalled and has new keys.
Check the fingerprint out of band (the provider's console:
ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). Only if the change is
expected, %s. No flag skips this check`, err, fix)
	case errors.As(err, &auth):
		return fmt.Errorf(`%w

Check that the public key is in ~%s/.ssh/authorized_keys on the node and that
the node's user: in the spec is right; keys come from --ssh-key, else
$%s, else ssh-agent ($%s)`, err, auth.Target.User, remote.EnvSSHKey, remote.EnvAuthSock)
	}
	return err
}

// allUnknownHosts finds every unknown host in err, which joins one error per
// node.
func allUnknownHosts(err error) []*remote.UnknownHostError {
	switch x := err.(type) {
	case *remote.UnknownHostError:
		return []*remote.UnknownHostError{x}
	case interface{ Unwrap() []error }:
		var out []*remote.UnknownHostError
		for _, e := range x.Unwrap() {
			out = append(out, allUnknownHosts(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		return allUnknownHosts(x.Unwrap())
	}
	return nil
}

// nodeOf names the node that t reaches.
func nodeOf(c *bootstrap.Cluster, t remote.Target) string {
	for _, n := range c.Nodes {
		if n.Target.User == t.User && n.Target.Addr() == t.Addr() {
			return n.Name
		}
	}
	return "node"
}
