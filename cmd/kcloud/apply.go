package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
)

// applyFlags are shared by apply and destroy.
type applyFlags struct {
	dryRun, wait, adopt, allowDataLoss, allowEmpty, allowMassPrune bool
	timeout, lockTimeout                                           time.Duration
}

func addApplyFlags(cmd *cobra.Command, f *applyFlags) {
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "server-side dry run: show what would happen, change nothing")
	cmd.Flags().BoolVar(&f.wait, "wait", true, "wait for each stack's objects to be healthy (kstatus) before the next stack")
	cmd.Flags().DurationVar(&f.timeout, "timeout", apply.DefaultTimeout, "how long to wait for each stack (never infinite)")
	cmd.Flags().DurationVar(&f.lockTimeout, "lock-timeout", defaultLockTimeout, "how long to wait for an apply lock someone else holds and does not renew, before giving up (exit 1)")
	cmd.Flags().BoolVar(&f.allowDataLoss, "allow-data-loss", false, "delete PersistentVolumeClaims, Namespaces, CRDs and detach-annotated objects when pruning, instead of detaching them")
}

// lockDuration is how long the apply lock outlives its last renewal;
// zero is inventory.DefaultLockDuration. Only tests change it: the crash
// loop shortens it in the kcloud processes it kills, so that the next apply
// takes their lock over in seconds, as it would after 30 s.
var lockDuration time.Duration

// defaultLockTimeout bounds the wait for a lock whose holder stopped
// renewing it: a Lease written with a long duration must not stall an
// apply silently for as long.
const defaultLockTimeout = 5 * time.Minute

// options are the run's options; events are logged.
func (f *applyFlags) options(g *globals) (apply.Options, error) {
	if f.lockTimeout <= 0 {
		return apply.Options{}, withCode(exitUsage, fmt.Errorf("--lock-timeout %s: must be positive", f.lockTimeout))
	}
	if f.timeout <= 0 {
		return apply.Options{}, withCode(exitUsage, fmt.Errorf("--timeout %s: must be positive (waits are never infinite; use --wait=false not to wait)", f.timeout))
	}
	return apply.Options{
		DryRun:         f.dryRun,
		Wait:           f.wait,
		Timeout:        f.timeout,
		Adopt:          f.adopt,
		AllowDataLoss:  f.allowDataLoss,
		AllowEmpty:     f.allowEmpty,
		AllowMassPrune: f.allowMassPrune,
		Redactor:       g.red,
		Lock: inventory.LockOptions{Holder: inventory.DefaultHolder(), Duration: lockDuration, Timeout: f.lockTimeout,
			Waiting: func(w inventory.LockWait) {
				fmt.Fprintf(g.stderr, "kcloud: waiting: %s (--lock-timeout %s)\n", w, f.lockTimeout)
			}},
		Events: func(e apply.Event) { printer.LogEvent(g.log, e) },
	}, nil
}

func newApplyCmd(g *globals) *cobra.Command {
	var flags applyFlags
	var layer, env string
	cmd := &cobra.Command{
		Use:   "apply [DIR...]",
		Short: "Apply the specs to the cluster, stack by stack, pruning what is no longer rendered",
		Long: `apply vets and renders the specs (default specs/) — invalid specs never reach
the cluster — then applies them stack by stack (l1, l2, l3-<env>, l4-<env>)
with server-side apply, one cli-utils inventory per stack (ConfigMap
kcloud-inventory-<stack> in kube-system), waiting for each stack to be
healthy before the next.

Objects an inventory lists that are no longer rendered are deleted, except
PersistentVolumeClaims, Namespaces, CRDs and objects annotated
client.lifecycle.config.k8s.io/deletion: detach, which are detached (left in
the cluster) unless --allow-data-loss. An existing object no inventory owns
is left untouched and fails the apply unless --adopt. A stack whose
components render nothing while its inventory is not empty (a removed
environment, a lost file) is only pruned with --allow-empty; an apply that
would delete more than half of a stack's objects needs --allow-mass-prune;
specs that render no component at all are refused.

The kubeconfig's server must be the Cluster's apiEndpoint or one of its
node hosts, unless --context names the context explicitly or
--allow-other-server is given: a stray KUBECONFIG does not get the platform.

One apply runs at a time: the Lease kube-system/kcloud-lock; 'kcloud unlock'
removes one a killed run left. Exit 0 when done, 1 on any error.`,
		Example: `  kcloud apply specs/
  kcloud apply specs/ --env staging --dry-run
  kcloud apply specs/ --layer L4 --env prod --timeout 10m`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := flags.options(g)
			if err != nil {
				return err
			}
			s, err := load(cmd.Context(), g, specDirs(args), loadOptions{render: &render.Options{Layer: layer, Env: env}, online: true})
			if err != nil {
				return err
			}
			opts.Merger = s.merger
			opts.Seals = s.seals()
			if err := s.refuseOtherServer(g, "apply to"); err != nil {
				return err
			}
			stop := withProgress(cmd.Context(), g, &opts)
			out, err := apply.Run(cmd.Context(), s.c, s.plan, opts)
			stop()
			return finishApply(g, out, err)
		},
	}
	addApplyFlags(cmd, &flags)
	cmd.Flags().BoolVar(&flags.adopt, "adopt", false, "take over existing objects that no inventory owns instead of failing")
	cmd.Flags().BoolVar(&flags.allowEmpty, "allow-empty", false, "prune stacks whose components render nothing while their inventory is not empty (a removed environment)")
	cmd.Flags().BoolVar(&flags.allowMassPrune, "allow-mass-prune", false, "let one apply delete more than half of a stack's objects")
	cmd.Flags().BoolVar(&g.allowOtherServer, "allow-other-server", false, "apply even though the kubeconfig's server is neither the Cluster's apiEndpoint nor one of its nodes (naming --context does the same)")
	addSelectFlags(cmd, &layer, &env)
	return cmd
}

// finishApply prints the summary of an apply or destroy and maps its error
// to exit 1, with advice and Secret values masked.
func finishApply(g *globals, out *apply.Result, err error) error {
	if perr := printer.ApplySummary(g.stdout, out); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return withCode(exitFailed, g.red.Error(applyAdvice(err)))
	}
	return nil
}

// applyAdvice adds what to do to errors the user can act on.
func applyAdvice(err error) error {
	var held *inventory.HeldError
	if errors.As(err, &held) {
		return err // says it already
	}
	if errors.Is(err, inventory.ErrLockLost) {
		return fmt.Errorf("%w: another run took over or 'kcloud unlock' removed it; nothing was written after that", err)
	}
	return err
}
