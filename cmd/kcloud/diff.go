package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
)

// diffFlags are diff's flags.
type diffFlags struct {
	output           *enumFlag
	layer, env       string
	against, details string
	allowDataLoss    bool
	readOnly         bool
	withDiff         bool
}

func newDiffCmd(g *globals) *cobra.Command {
	var flags diffFlags
	cmd := &cobra.Command{
		Use:   "diff [DIR...]",
		Short: "Show what apply would change: a client-side merge, and a server-side dry run where it is needed",
		Long: `diff renders the specs (default specs/) and reads the live objects. Each
object is first merged with its live object on the client, as server-side
apply would merge it (field manager kcloud, the cluster's CRDs and mutating
admission known): an object the merge proves unchanged needs no request.
Only what may change is server-side-applied as a dry run and compared with
the live object. With --read-only, or when the server forbids dry runs (a
read-only identity), every change is computed client side. Objects a
stack's inventory lists that are no longer rendered are shown as deletes
(or detaches, for PersistentVolumeClaims, Namespaces and CRDs); the
deletes of a removed environment say that apply refuses them without
--allow-empty. Secret values are shown as ***. Nothing in the cluster
changes.

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
			return runDiff(cmd.Context(), g, &flags, specDirs(args))
		},
	}
	flags.output = addOutputFlag(cmd, "output format: text, markdown (pull request comments) or json", "text", "markdown", "json")
	cmd.Flags().StringVar(&flags.details, "details-url", "", "with -o markdown: where the whole diff is (a CI artifact's URL); a comment cut to the size limit links to it")
	cmd.Flags().StringVar(&flags.against, "against", "", "diff the render at this git revision (HEAD~1, origin/main) with the working tree's, offline: no cluster, no kubeconfig")
	cmd.Flags().BoolVar(&flags.withDiff, "with-diff", false, "with -o json: give each record its unified diff (the diff field); without it no diff text is rendered")
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

// runDiff diffs the specs of dirs against the cluster, or against a git
// revision (--against).
func runDiff(ctx context.Context, g *globals, f *diffFlags, dirs []string) error {
	if f.against != "" {
		return diffAgainst(ctx, g, dirs, f.against, render.Options{Layer: f.layer, Env: f.env},
			f.printOptions(g), f.allowDataLoss)
	}
	s, err := load(ctx, g, dirs, loadOptions{render: &render.Options{Layer: f.layer, Env: f.env}, online: true})
	if err != nil {
		return atLeast(exitDiffErr, err)
	}
	s.warnOtherServer(g, "diffing against it")
	opts := s.diffOptions(g)
	opts.AllowDataLoss = f.allowDataLoss
	opts.Seals = s.seals()
	// Every change's text is printed: rendered as each is decided.
	opts.Texts = f.output.value == "text" || (f.output.value == "json" && f.withDiff)
	opts.ReadOnly = diff.ReadOnlyIfForbidden
	if f.readOnly {
		opts.ReadOnly = diff.ReadOnlyAlways
	}
	out, err := diff.Run(ctx, s.c, s.plan.WithoutHooks(), opts) // hooks are run by apply, never kept
	if err != nil {
		return withCode(exitDiffErr, g.red.Error(err))
	}
	if err := printer.Diff(g.stdout, out, f.printOptions(g)); err != nil {
		return withCode(exitDiffErr, err)
	}
	if out.HasChanges() {
		return withCode(exitFailed, nil)
	}
	return nil
}

// printOptions say how to print the diff.
func (f *diffFlags) printOptions(g *globals) printer.DiffOptions {
	return printer.DiffOptions{Format: f.output.value, Color: colorOK(g.stdout), DetailsURL: f.details, WithDiff: f.withDiff}
}
