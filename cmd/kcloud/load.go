package main

import (
	"context"
	"fmt"
	"os"

	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/validate"
)

// loadSpecs loads dirs; I/O and usage problems exit 2, invalid specs 1.
// It prints the diagnostics it finds to stderr.
func loadSpecs(g *globals, dirs []string) (*spec.Tree, error) {
	tree, diags, err := spec.Load(dirs)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	if err := reportDiagnostics(g, diags); err != nil {
		return nil, err
	}
	return tree, nil
}

// loadAndRender loads and renders dirs the way diff and apply consume
// them: every ${NAME} must be set and pinned manifest URLs are fetched.
// Nothing reaches a cluster unless this succeeds. The redactor learns the
// plan's Secret values.
func loadAndRender(ctx context.Context, g *globals, dirs []string, opts render.Options) (*render.Result, *spec.Tables, error) {
	tree, err := loadSpecs(g, dirs)
	if err != nil {
		return nil, nil, err
	}
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	if opts.Fetcher == nil {
		opts.Fetcher = g.manifestFetcher(true)
	}
	res, diags := render.Render(ctx, tree, opts)
	diags = append(diags, validate.Check(res, validate.Options{})...)
	if err := reportDiagnostics(g, diags); err != nil {
		return nil, nil, err
	}
	g.red.Add(res.Unstructured()...)
	return res, tree.Tables, nil
}

// connect builds the clients of the cluster --kubeconfig, --context and
// KUBECONFIG name, once per command; tables (nil: none) give the hints of
// unserved kinds.
func connect(g *globals, tables *spec.Tables) (*kube.Clients, error) {
	opts := kube.Options{Kubeconfig: g.kubeconfig, Context: g.context, Warnings: kube.WarningLogger(g.log, g.red.String)}
	if tables != nil {
		opts.Hint = tables.Hint
	}
	c, err := kube.New(opts)
	if err != nil {
		return nil, withCode(exitFailed, err)
	}
	return c, nil
}

// reportDiagnostics prints diags to stderr and turns errors into exit 1.
func reportDiagnostics(g *globals, diags spec.Diagnostics) error {
	if len(diags) == 0 {
		return nil
	}
	_ = printer.Diagnostics(g.stderr, diags, diagOptions("text"))
	if errs, _ := diags.Count(); errs > 0 {
		return withCode(exitFailed, fmt.Errorf("invalid specs: %d error(s)", errs))
	}
	return nil
}

func diagOptions(format string) printer.DiagOptions {
	wd, _ := os.Getwd()
	return printer.DiagOptions{Format: format, WorkDir: wd, GitHub: os.Getenv("GITHUB_ACTIONS") == "true" && format == "text"}
}
