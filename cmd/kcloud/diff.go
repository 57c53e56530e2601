package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/redact"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

func newDiffCmd(g *globals) *cobra.Command {
	var flags struct {
		output, layer, env string
		allowDataLoss      bool
	}
	cmd := &cobra.Command{
		Use:   "diff [DIR...]",
		Short: "Show what apply would change: server-side dry-run against the live cluster",
		Long: `diff renders the specs (default specs/), server-side-applies every object as a
dry run and compares the result with the live object; objects a stack's
inventory lists that are no longer rendered are shown as deletes (or
detaches, for PersistentVolumeClaims, Namespaces and CRDs). Secret values
are shown as ***. Nothing in the cluster changes.

Exit 0 when there are no changes, 1 when there are, 2 or more on error
(kubectl diff's convention).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch flags.output {
			case "text", "markdown", "json":
			default:
				return withCode(exitUsage, fmt.Errorf("-o %q: use text, markdown or json", flags.output))
			}
			res, err := loadAndRender(cmd.Context(), g, specDirs(args), render.Options{Layer: flags.layer, Env: flags.env})
			if err != nil {
				return atLeast(exitDiffErr, err)
			}
			lv, err := connect(cmd, g, res, flags.layer, flags.env)
			if err != nil {
				return atLeast(exitDiffErr, err)
			}
			out, err := diff.Run(cmd.Context(), lv.clients, res.Stacks, diff.Options{
				Tables:        lv.tables,
				Selection:     lv.selection,
				AllowDataLoss: flags.allowDataLoss,
				Redactor:      lv.redactor,
			})
			if err != nil {
				return withCode(exitDiffErr, lv.redactor.Error(err))
			}
			if err := printer.Diff(g.stdout, out, printer.DiffOptions{Format: flags.output, Color: isTerminal(g.stdout)}); err != nil {
				return withCode(exitDiffErr, err)
			}
			if out.HasChanges() {
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&flags.output, "output", "o", "text", "output format: text, markdown (pull request comments) or json")
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

// live is what a command that talks to the cluster works with.
type live struct {
	clients   *kube.Clients
	tables    *spec.Tables
	selection inventory.Selection
	redactor  *redact.Redactor
}

// connect masks the plan's Secret values in every log line from here on,
// then builds the clients from --kubeconfig/--context/KUBECONFIG.
func connect(cmd *cobra.Command, g *globals, res *render.Result, layer, env string) (*live, error) {
	tables, err := spec.LoadTables()
	if err != nil {
		return nil, withCode(exitFailed, err)
	}
	var objs []*unstructured.Unstructured
	if res != nil {
		for _, s := range res.Stacks {
			objs = append(objs, s.Unstructured()...)
		}
	}
	red := redact.NewRedactor(objs)
	redactLogs(cmd, g, red)
	var sel inventory.Selection
	if layer != "" {
		l, ok := tables.Layer(layer)
		if !ok {
			return nil, withCode(exitUsage, fmt.Errorf("--layer %q: use one of %v", layer, tables.LayerIDs()))
		}
		sel.Order = l.Order
	}
	sel.Env = env
	c, err := kube.New(kube.Options{
		Kubeconfig: g.kubeconfig,
		Context:    g.context,
		Warnings:   kube.WarningLogger(g.log, red.String),
	})
	if err != nil {
		return nil, withCode(exitFailed, err)
	}
	return &live{clients: c, tables: tables, selection: sel, redactor: red}, nil
}

// redactLogs rebuilds the logger so that it writes through red, and routes
// client-go's klog lines into it.
func redactLogs(cmd *cobra.Command, g *globals, red *redact.Redactor) {
	if g.logFormat == "" {
		g.logFormat = "console"
		if os.Getenv("CI") == "true" || !isTerminal(g.stderr) {
			g.logFormat = "json"
		}
	}
	g.stderr = red.Writer(g.stderr)
	if log, err := newLogger(g); err == nil {
		g.log = log
		cmd.SetContext(log.WithContext(cmd.Context()))
	}
	kube.RouteKlog(g.log, red.String)
}
