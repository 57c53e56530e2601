package main

import (
	"errors"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/bootstrap"
	"kcloud.dev/kcloud/pkg/printer"
)

const bootstrapRestoreLong = `restore puts the cluster back to a snapshot that 'kcloud bootstrap' took on
the first server before a change (its name is printed then, and listed when
the name given is not there), with K3s's documented procedure:

  1. K3s is stopped on every server.
  2. On the first server, an embedded-etcd snapshot is restored by a cluster
     reset (k3s server --cluster-reset --cluster-reset-restore-path=FILE):
     the current etcd data is moved aside (db/etcd-old-TIME) and etcd comes
     back with this server as its only member. A SQLite copy is restored by
     putting its database directory and token back (the current directory
     is moved aside to db-before-restore-TIME).
  3. K3s starts on the first server, which must turn Ready.
  4. On every other server, the datastore directory is moved aside
     (db-before-restore-TIME; K3s's procedure deletes it) and K3s starts: the
     server rejoins the restored cluster as a new etcd member.

Agents are left running; they reconnect. Everything written to the cluster
since the snapshot is lost, so restore asks for --yes; --dry-run checks the
snapshot and prints the steps without changing anything.

Exit 0 when every server is Ready again, 1 on any error, 2 on bad flags.`

func newBootstrapRestoreCmd(g *globals) *cobra.Command {
	var (
		flags    bootstrapFlags
		snapshot string
		yes      bool
	)
	cmd := &cobra.Command{
		Use:   "restore [DIR...] --snapshot NAME --yes",
		Short: "Restore the cluster from a snapshot bootstrap took (K3s's cluster reset), on every server",
		Long:  bootstrapRestoreLong,
		Example: `  kcloud bootstrap restore specs/ --snapshot kcloud-v1.33.5-k3s1-to-v1.34.1-k3s1-vps-1-1764889200 --dry-run
  kcloud bootstrap restore specs/ --snapshot kcloud-v1.33.5-k3s1-to-v1.34.1-k3s1-vps-1-1764889200 --yes`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case snapshot == "":
				return withCode(exitUsage, errors.New("--snapshot NAME is required: the name bootstrap printed when it took the snapshot"))
			case !yes && !flags.dryRun:
				return withCode(exitUsage, errors.New("restore replaces the cluster's whole state with the snapshot's, losing every change since: pass --yes to do it, or --dry-run to see the steps"))
			}
			opts, err := flags.options(g, false)
			if err != nil {
				return err
			}
			cluster, auth, err := flags.connect(cmd, g, args, &opts)
			if err != nil {
				return err
			}
			defer auth.Close()
			onEvent, ctx, finish := bootstrapProgress(cmd.Context(), g, len(cluster.Servers()))
			opts.OnEvent = onEvent
			res, err := bootstrap.Restore(ctx, cluster, opts, snapshot)
			finish(err)
			if err != nil {
				return withCode(exitFailed, sshAdvice(err, cluster))
			}
			return printer.BootstrapRestore(g.stdout, res, flags.dryRun)
		},
	}
	flags.register(cmd.Flags(), false)
	cmd.Flags().StringVar(&snapshot, "snapshot", "", "the snapshot's name, as bootstrap printed it")
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm: the cluster loses every change made since the snapshot")
	cmd.Flags().BoolVar(&flags.dryRun, "dry-run", false, "check the snapshot and print the steps; change nothing")
	return cmd
}
