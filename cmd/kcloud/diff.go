package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
)

func newDiffCmd(g *globals) *cobra.Command {
	var flags struct {
		output, layer, env string
		against, details   string
		allowDataLoss      bool
		readOnly           bool
	}
	cmd := &cobra.Command{
		Use:   "diff [DIR...]",
		Short: "Show what apply would change: server-side dry-run against the live cluster",
		Long: `diff renders the specs (default specs/), server-side-applies every object as a
dry run and compares the result with the live object; objects a stack's
inventory lists that are no longer rendered are shown as deletes (or
detaches, for PersistentVolumeClaims, Namespaces and CRDs). Secret values
are shown as ***. Nothing in the cluster changes.

With --against REV, diff needs no cluster: it renders the specs as they
are at the git revision REV and as they are in the working tree, and
diffs the two renders (unset ${NAME}s stay as written on both sides). For
pull requests from forks, which get no cluster credentials.

Exit 0 when there are no changes, 1 when there are, 2 or more on error
(kubectl diff's convention).`,
		Example: `  kcloud diff specs/
  kcloud diff specs/ --env staging -o markdown > diff.md
  kcloud diff specs/ --against origin/main      # offline, no cluster`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch flags.output {
			case "text", "markdown", "json":
			default:
				return withCode(exitUsage, fmt.Errorf("-o %q: use text, markdown or json", flags.output))
			}
			if flags.against != "" {
				return diffAgainst(cmd.Context(), g, specDirs(args), flags.against, render.Options{Layer: flags.layer, Env: flags.env},
					printer.DiffOptions{Format: flags.output, Color: colorOK(g.stdout), DetailsURL: flags.details}, flags.allowDataLoss)
			}
			s, err := loadPlan(cmd.Context(), g, specDirs(args), render.Options{Layer: flags.layer, Env: flags.env})
			if err != nil {
				return atLeast(exitDiffErr, err)
			}
			warnDiff(g, s.c)
			opts := s.diffOptions(g)
			opts.AllowDataLoss = flags.allowDataLoss
			opts.ReadOnly = diff.ReadOnlyIfForbidden
			if flags.readOnly {
				opts.ReadOnly = diff.ReadOnlyAlways
			}
			out, err := diff.Run(cmd.Context(), s.c, s.plan, opts)
			if err != nil {
				return withCode(exitDiffErr, g.red.Error(err))
			}
			if err := printer.Diff(g.stdout, out, printer.DiffOptions{Format: flags.output, Color: colorOK(g.stdout), DetailsURL: flags.details}); err != nil {
				return withCode(exitDiffErr, err)
			}
			if out.HasChanges() {
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	addOutputFlag(cmd, &flags.output, "output format: text, markdown (pull request comments) or json", "text", "markdown", "json")
	cmd.Flags().StringVar(&flags.details, "details-url", "", "with -o markdown: where the whole diff is (a CI artifact's URL); a comment cut to the size limit links to it")
	cmd.Flags().StringVar(&flags.against, "against", "", "diff the render at this git revision (HEAD~1, origin/main) with the working tree's, offline: no cluster, no kubeconfig")
	cmd.Flags().BoolVar(&flags.readOnly, "read-only", false, "send no dry run: compute every change client side from the live objects (needs get and list only); diff does so by itself when the server forbids a dry run")
	cmd.Flags().BoolVar(&flags.allowDataLoss, "allow-data-loss", false, "preview pruning as 'apply --allow-data-loss' does it: delete PVCs, Namespaces and CRDs instead of detaching them")
	addSelectFlags(cmd, &flags.layer, &flags.env)
	return cmd
}

// atLeast raises the exit code of err to code: for diff, whose exit 1
// means "changes", an invalid spec must not exit 1.
func atLeast(code int, err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.code < code {
			return &exitError{code: code, err: ee.err}
		}
		return err
	}
	return withCode(code, err)
}
