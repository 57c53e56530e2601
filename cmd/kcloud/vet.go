package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
)

func newVetCmd(g *globals) *cobra.Command {
	var flags struct {
		output *enumFlag
		strict bool
	}
	cmd := &cobra.Command{
		Use:   "vet [DIR...]",
		Short: "Validate a spec tree offline: schema and rules, every error at file:line:col",
		Long: `vet loads every *.yaml and *.yml under the directories (default specs/),
checks them against the schema and the SSOT rules, renders them offline and
checks the rendered objects. It reports every problem, not just the first,
one per line as file:line:col: message. Every rendered Kubernetes object is
checked against its kind's schema: built-in kinds against client-go's, custom
resources against a CRD from the plan, the spec tree's schemas, K3s's own,
or the cluster's when --kubeconfig or --context is given (the only time vet
talks to a cluster). A kind with no schema is a warning (an error with
--strict). Across the whole plan: every reference (Secrets, ConfigMaps,
claims, ServiceAccounts, classes, Services, issuers, Traefik Middlewares)
resolves, with the keys it reads; every image has a tag other than latest,
and a digest (a tag alone is a warning, an error with --strict, unless the
component lists it under unpinnedImages); every Ingress host on the
internal domain says how its users authenticate (kcloud.dev/auth). A Secret with a plaintext value is an error: encrypt it with
sops. sops files are decrypted when a key is set (SOPS_AGE_KEY,
SOPS_AGE_KEY_FILE); without one vet checks everything else and warns.
Exit 0 valid, 1 invalid, 2 usage/IO.`,
		Example: `  kcloud vet specs/
  kcloud vet specs/ -o json | jq .errors
  kcloud vet specs/ --strict --kubeconfig kubeconfig   # CRDs from the cluster`,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := load(cmd.Context(), g, specDirs(args), loadOptions{render: &render.Options{}, vet: true, strict: flags.strict,
				online: cmd.Flag("kubeconfig").Changed || cmd.Flag("context").Changed})
			if err != nil {
				return err
			}
			tree, diags := s.tree, s.diags
			objects := 0
			if s.plan != nil {
				objects = len(s.plan.Objects())
			}
			if err := printer.Diagnostics(g.stdout, diags, diagOptions(flags.output.value)); err != nil {
				return err
			}
			errs, warns := diags.Count()
			if errs > 0 {
				return withCode(exitFailed, nil)
			}
			if flags.output.value == "text" {
				fmt.Fprintf(g.stderr, "specs are valid: %d component(s), %d environment(s), %d object(s), %d warning(s)\n",
					len(tree.Components), len(tree.Cluster.Environments), objects, warns)
				if n := tree.DemoFiles(); n > 0 && tree.Cluster.Demo != "" {
					fmt.Fprintf(g.stderr, "%s: a demo: %d sops file(s) encrypted to the public demo key alone, which anyone can decrypt\n", tree.Cluster.DemoPos, n)
				}
			}
			return nil
		},
	}
	flags.output = addOutputFlag(cmd, "output format: text or json", "text", "json")
	cmd.Flags().BoolVar(&flags.strict, "strict", false, "a kind with no schema, or an image tag without a digest, is an error, not a warning")
	return cmd
}
