package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/status"
)

func newStatusCmd(g *globals) *cobra.Command {
	var flags struct{ output, layer, env string }
	cmd := &cobra.Command{
		Use:   "status [DIR...]",
		Short: "Show each stack's inventory, object health and drift",
		Long: `status renders the specs (default specs/) and reports, for each stack, its
inventory, the kstatus health of every object it lists and how many objects
drifted from the plan (what 'kcloud diff' would show). It also checks that
the StorageClasses K3s owns (local-path) match the table, and whether an
apply holds the lock.

Exit 0 when everything is healthy and in sync, 1 when not.`,
		Example: `  kcloud status specs/
  kcloud status specs/ --env prod -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if flags.output != "text" && flags.output != "json" {
				return withCode(exitUsage, fmt.Errorf("-o %q: use text or json", flags.output))
			}
			s, err := loadPlan(cmd.Context(), g, specDirs(args), render.Options{Layer: flags.layer, Env: flags.env})
			if err != nil {
				return err
			}
			rep, err := status.Run(cmd.Context(), s.c, s.plan, s.diffOptions(g))
			if err != nil {
				return withCode(exitFailed, g.red.Error(err))
			}
			if err := printer.Status(g.stdout, rep, flags.output); err != nil {
				return withCode(exitFailed, err)
			}
			if !rep.Healthy() {
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	addOutputFlag(cmd, &flags.output, "output format: text or json", "text", "json")
	addSelectFlags(cmd, &flags.layer, &flags.env)
	return cmd
}
