package main

import (
	"context"
	"fmt"
	"os"

	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
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
// Nothing reaches a cluster unless this succeeds.
func loadAndRender(ctx context.Context, g *globals, dirs []string, opts render.Options) (*render.Result, error) {
	tree, err := loadSpecs(g, dirs)
	if err != nil {
		return nil, err
	}
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	if opts.Fetcher == nil {
		opts.Fetcher = &render.HTTPFetcher{}
	}
	res, diags := render.Render(ctx, tree, opts)
	if err := reportDiagnostics(g, diags); err != nil {
		return nil, err
	}
	return res, nil
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
