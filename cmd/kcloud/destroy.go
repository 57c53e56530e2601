package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// noSpecs refuses arguments to destroy: it reads no specs, and a spec
// directory given out of habit must not look like an unknown command.
func noSpecs(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return withCode(exitUsage, fmt.Errorf("destroy reads no specs (got %q): it deletes what one stack's inventory lists; "+
		"name the stack with --layer (and --env for L3/L4), e.g. kcloud destroy --layer L4 --env staging --yes", strings.Join(args, " ")))
}

func newDestroyCmd(g *globals) *cobra.Command {
	var flags applyFlags
	var layer, env string
	var yes bool
	cmd := &cobra.Command{
		Use:   "destroy --layer L [--env E] --yes",
		Short: "Delete one stack's objects through its inventory",
		Long: `destroy deletes every object one stack's inventory lists (--layer L1 or L2,
or --layer L3/L4 with --env), with cli-utils' Destroyer, and then the
inventory. PersistentVolumeClaims, Namespaces, CRDs and objects annotated
client.lifecycle.config.k8s.io/deletion: detach are detached (left in the
cluster) unless --allow-data-loss. It reads no specs. --yes is required
(except with --dry-run). Exit 0 when done, 1 on error, 2 on usage errors.`,
		Args: noSpecs,
		Example: `  kcloud destroy --layer L4 --env staging --dry-run
  kcloud destroy --layer L4 --env staging --yes`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if layer == "" {
				return withCode(exitUsage, fmt.Errorf("--layer is required: destroy works on one stack"))
			}
			tables, err := spec.LoadTables()
			if err != nil {
				return withCode(exitFailed, err)
			}
			l, ok := tables.Layer(layer)
			switch {
			case !ok:
				return withCode(exitUsage, fmt.Errorf("--layer %q: use one of %v", layer, tables.LayerIDs()))
			case l.PerEnv() && env == "":
				return withCode(exitUsage, fmt.Errorf("--layer %s exists once per environment: add --env", layer))
			case !l.PerEnv() && env != "":
				return withCode(exitUsage, fmt.Errorf("--env: %s is shared by every environment; use --env only with a per-environment layer", layer))
			}
			stack := render.StackName(l, env)
			if !yes && !flags.dryRun {
				return withCode(exitUsage, fmt.Errorf("destroy deletes every object of stack %s: pass --yes (or --dry-run to see what it would do)", stack))
			}
			opts, err := flags.options(g)
			if err != nil {
				return err
			}
			c, err := g.connect(tables)
			if err != nil {
				return err
			}
			stop := withProgress(cmd.Context(), g, &opts)
			out, err := apply.Destroy(cmd.Context(), c, tables, stack, opts)
			stop()
			return finishApply(g, out, err)
		},
	}
	addApplyFlags(cmd, &flags)
	cmd.Flags().BoolVar(&yes, "yes", false, "really destroy the stack")
	cmd.Flags().StringVar(&layer, "layer", "", "the stack's layer: L1, L2, L3 or L4")
	cmd.Flags().StringVar(&env, "env", "", "the stack's environment (L3/L4)")
	_ = cmd.RegisterFlagCompletionFunc("layer", completeLayers)
	_ = cmd.RegisterFlagCompletionFunc("env", completeEnvs)
	return cmd
}
