package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"

	"kcloud.dev/kcloud/pkg/identity"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
)

func newIdentitiesCmd(g *globals) *cobra.Command {
	var flags struct {
		outDir string
		ttl    time.Duration
	}
	cmd := &cobra.Command{
		Use:   "identities [DIR...]",
		Short: "Create least-privilege CI identities: one for apply, a read-only one for diffs",
		Long: `identities creates two ServiceAccounts in kube-system from the plan (every
stack of the specs, default specs/) and writes a kubeconfig for each into
--out-dir, mode 0600:

  apply.kubeconfig  kcloud-apply: get, list, watch, create, update, patch and
                    delete on exactly the resources the plan and the stacks'
                    inventories hold, the inventories (ConfigMaps) and the
                    lock Lease in kube-system, and reads of Pods, ReplicaSets
                    and Jobs for health checks.
  diff.kubeconfig   kcloud-diff: get, list and watch on the same resources.
                    diff's server-side dry runs need patch, so with this
                    identity diff says which permission it lacks; use
                    diff --against for a diff that needs no cluster.

Tokens come from the TokenRequest API, bound to their ServiceAccount (delete
it to revoke them), for --token-ttl (the API server may grant less; the
expiry is printed). Run identities again, with an admin kubeconfig, when the
plan gains kinds, and before a token expires.

It writes to the cluster as apply does, and like apply refuses a kubeconfig
whose server is neither the Cluster's apiEndpoint nor one of its node hosts,
unless --context names the context or --allow-other-server is given.`,
		Example: `  kcloud identities specs/ --out-dir ci/ --kubeconfig admin.kubeconfig
  kcloud diff specs/ --kubeconfig ci/diff.kubeconfig
  kcloud apply specs/ --kubeconfig ci/apply.kubeconfig`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if flags.outDir == "" {
				return withCode(exitUsage, fmt.Errorf("--out-dir is required"))
			}
			if flags.ttl < 10*time.Minute {
				return withCode(exitUsage, fmt.Errorf("--token-ttl %s: at least 10m (the API server's minimum)", flags.ttl))
			}
			return runIdentities(cmd.Context(), g, specDirs(args), flags.outDir, flags.ttl)
		},
	}
	cmd.Flags().StringVar(&flags.outDir, "out-dir", "", "directory for apply.kubeconfig and diff.kubeconfig (created 0700; files 0600)")
	cmd.Flags().DurationVar(&flags.ttl, "token-ttl", identity.DefaultTTL, "lifetime asked for the tokens")
	cmd.Flags().BoolVar(&g.allowOtherServer, "allow-other-server", false, "create the identities even though the kubeconfig's server is neither the Cluster's apiEndpoint nor one of its nodes (naming --context does the same)")
	return cmd
}

// runIdentities creates the identities of the plan of dirs and writes
// their kubeconfigs into dir.
func runIdentities(ctx context.Context, g *globals, dirs []string, dir string, ttl time.Duration) error {
	s, err := load(ctx, g, dirs, loadOptions{render: &render.Options{Lenient: true}, online: true})
	if err != nil {
		return err
	}
	// identities writes to the cluster (ServiceAccounts, RBAC, tokens) as
	// apply does: it refuses a server that does not look like the tree's
	// cluster, with the same ways out.
	if err := s.refuseOtherServer(g, "create identities on"); err != nil {
		return err
	}
	inv, err := identity.InventoryKinds(ctx, s.c)
	if err != nil {
		return withCode(exitFailed, err)
	}
	rules, err := identity.ForPlan(s.plan, inv, s.c.Mapper)
	if err != nil {
		return withCode(exitFailed, err)
	}
	for _, w := range rules.Warnings {
		g.log.Warn().Msg(w)
	}
	return writeIdentities(ctx, g, s.c, rules, dir, ttl)
}

// writeIdentities creates the apply and diff identities of rules and writes
// a 0600 kubeconfig for each into dir (created 0700).
func writeIdentities(ctx context.Context, g *globals, c *kube.Clients, rules identity.Rules, dir string, ttl time.Duration) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return withCode(exitFailed, err)
	}
	apply, diffID := identity.Identities(rules)
	for _, id := range []struct {
		identity.Identity
		file string
	}{{apply, "apply.kubeconfig"}, {diffID, "diff.kubeconfig"}} {
		if err := identity.Ensure(ctx, c, id.Identity); err != nil {
			return withCode(exitFailed, err)
		}
		token, expiry, err := identity.Token(ctx, c, id.Name, ttl)
		if err != nil {
			return withCode(exitFailed, err)
		}
		path := filepath.Join(dir, id.file)
		if err := identity.WriteKubeconfig(path, c.Config, id.Name, token); err != nil {
			return withCode(exitFailed, err)
		}
		fmt.Fprintf(g.stdout, "%s: ServiceAccount kube-system/%s, token valid until %s\n%s", path, id.Name, expiry.UTC().Format(time.RFC3339), describeRules(id.Cluster))
	}
	return nil
}

// describeRules lists rules one per line: verbs on group/resources.
func describeRules(rules []rbacv1.PolicyRule) string {
	var b strings.Builder
	for _, r := range rules {
		group := r.APIGroups[0]
		if group == "" {
			group = "core"
		}
		fmt.Fprintf(&b, "  %s %s: %s\n", group, strings.Join(r.Resources, ","), strings.Join(r.Verbs, ","))
	}
	return b.String()
}
