package main

import (
	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
)

func newRenderCmd(g *globals) *cobra.Command {
	var flags struct {
		output      *enumFlag
		layer, env  string
		showSecrets bool
	}
	cmd := &cobra.Command{
		Use:   "render [DIR...]",
		Short: "Print every object kcloud would apply, in apply order, offline",
		Long: `render prints the Kubernetes objects of a spec tree (default specs/): the
generated namespaces and StorageClass, each component's HelmChart, manifests,
objects and PersistentVolumeClaims, for every environment, in apply order.
The output is byte-identical across runs. Pinned manifest URLs are fetched
and checked against their sha256. sops-encrypted manifests are decrypted in
memory; Secret values, and every value that came from one, print as ***
unless --show-secrets. Exit 0, 1 when the specs are invalid, 2 on usage
errors (an unknown flag or -o value, --layer or --env naming no stack, a
spec directory that cannot be read).`,
		Example: `  kcloud render specs/ > plan.yaml
  kcloud render specs/ --layer L4 --env prod -o json | jq -r '.items[].metadata.name'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := load(cmd.Context(), g, specDirs(args), loadOptions{render: &render.Options{Layer: flags.layer, Env: flags.env}})
			if err != nil {
				return err
			}
			if flags.showSecrets {
				return printer.Render(cmd.OutOrStdout(), s.plan, flags.output.value, nil)
			}
			return printer.Render(g.stdout, s.plan, flags.output.value, g.red)
		},
	}
	flags.output = addOutputFlag(cmd, "output format: yaml or json", "yaml", "json")
	cmd.Flags().BoolVar(&flags.showSecrets, "show-secrets", false, "print Secret values and values that came from them in clear (never in CI logs)")
	addSelectFlags(cmd, &flags.layer, &flags.env)
	return cmd
}

// addSelectFlags adds --layer and --env, which select stacks.
func addSelectFlags(cmd *cobra.Command, layer, env *string) {
	cmd.Flags().StringVar(layer, "layer", "", "select one layer: L1, L2, L3 or L4")
	cmd.Flags().StringVar(env, "env", "", "select one environment's stacks (L3/L4)")
	_ = cmd.RegisterFlagCompletionFunc("layer", completeLayers)
	_ = cmd.RegisterFlagCompletionFunc("env", completeEnvs)
}
