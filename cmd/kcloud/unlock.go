package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/inventory"
)

func newUnlockCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "unlock",
		Short: "Remove the apply lock a killed apply left behind",
		Long: `unlock deletes the Lease kube-system/kcloud-lock whoever holds it. Use it when
an apply or destroy was killed and you do not want to wait for its lock to
expire. Exit 0 when a lock was removed or there was none.`,
		Args:    cobra.NoArgs,
		Example: `  kcloud unlock --kubeconfig kubeconfig`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.connect(nil)
			if err != nil {
				return err
			}
			lease, err := inventory.Unlock(cmd.Context(), c.Typed)
			if errors.Is(err, inventory.ErrNotLocked) {
				fmt.Fprintln(g.stdout, "not locked")
				return nil
			}
			if err != nil {
				return withCode(exitFailed, err)
			}
			holder, age := "unknown", time.Duration(0)
			if lease.Spec.HolderIdentity != nil {
				holder = *lease.Spec.HolderIdentity
			}
			if lease.Spec.AcquireTime != nil {
				age = time.Since(lease.Spec.AcquireTime.Time).Round(time.Second)
			}
			fmt.Fprintf(g.stdout, "removed the apply lock held by %s for %s\n", holder, age)
			return nil
		},
	}
}
