package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/plancheck"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/validate"
)

func newVetCmd(g *globals) *cobra.Command {
	var flags struct {
		output string
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
			if flags.output != "text" && flags.output != "json" {
				return withCode(exitUsage, fmt.Errorf("-o %q: use text or json", flags.output))
			}
			tree, diags, err := spec.LoadPartial(cmd.Context(), specDirs(args))
			if err != nil {
				return withCode(exitUsage, err)
			}
			var objects int
			if tree.Cluster != nil {
				diags = append(diags, tree.MissingVars(os.LookupEnv, spec.SeverityWarning, true)...)
				diags = append(diags, tree.MissingVars(os.LookupEnv, spec.SeverityWarning, false)...)
				diags = append(diags, tree.DemoWarnings()...)
				res, more := render.Render(cmd.Context(), tree, render.Options{Getenv: os.LookupEnv, Lenient: true, Fetcher: g.manifestFetcher(false), Decrypt: secret.Decrypt})
				diags = append(diags, more...)
				if res != nil {
					objects = len(res.Objects())
					crds, err := clusterCRDs(cmd, g)
					if err != nil {
						return withCode(exitUsage, err)
					}
					diags = append(diags, validate.Check(res, validate.Options{Strict: flags.strict, CRDs: crds})...)
					diags = append(diags, plancheck.Check(res, tree, plancheck.Options{Strict: flags.strict})...)
				}
			}
			diags = diags.Sorted()
			if err := printer.Diagnostics(g.stdout, diags, diagOptions(flags.output)); err != nil {
				return err
			}
			errs, warns := diags.Count()
			if errs > 0 {
				return withCode(exitFailed, nil)
			}
			if flags.output == "text" {
				fmt.Fprintf(g.stderr, "specs are valid: %d component(s), %d environment(s), %d object(s), %d warning(s)\n",
					len(tree.Components), len(tree.Cluster.Environments), objects, warns)
			}
			return nil
		},
	}
	addOutputFlag(cmd, &flags.output, "output format: text or json", "text", "json")
	cmd.Flags().BoolVar(&flags.strict, "strict", false, "a kind with no schema, or an image tag without a digest, is an error, not a warning")
	return cmd
}

// clusterCRDs reads the cluster's CRDs when --kubeconfig or --context names
// a cluster; vet stays offline otherwise.
func clusterCRDs(cmd *cobra.Command, g *globals) ([]validate.CRD, error) {
	if !cmd.Flag("kubeconfig").Changed && !cmd.Flag("context").Changed {
		return nil, nil
	}
	c, err := kube.New(kube.Options{Kubeconfig: g.kubeconfig, Context: g.context})
	if err != nil {
		return nil, err
	}
	return validate.ClusterCRDs(cmd.Context(), c.Dynamic)
}
