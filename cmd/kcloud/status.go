package main

import (
	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/status"
)

func newStatusCmd(g *globals) *cobra.Command {
	var flags struct {
		output     *enumFlag
		layer, env string
	}
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
			s, err := load(cmd.Context(), g, specDirs(args), loadOptions{render: &render.Options{Layer: flags.layer, Env: flags.env}, online: true})
			if err != nil {
				return err
			}
			s.warnOtherServer(g, "reporting on it")
			rep, err := status.Run(cmd.Context(), s.c, s.plan, s.diffOptions(g))
			if err != nil {
				return withCode(exitFailed, g.red.Error(err))
			}
			if err := printer.Status(g.stdout, rep, flags.output.value); err != nil {
				return withCode(exitFailed, err)
			}
			if !rep.Healthy() {
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	flags.output = addOutputFlag(cmd, "output format: text or json", "text", "json")
	addSelectFlags(cmd, &flags.layer, &flags.env)
	return cmd
}
