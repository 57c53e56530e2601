package main

import (
	"context"
	"fmt"
	"os"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/ssa"
	"kcloud.dev/kcloud/pkg/validate"
)

// loadSpecs loads dirs; I/O and usage problems exit 2, invalid specs 1.
// It prints the diagnostics it finds to stderr.
func loadSpecs(ctx context.Context, g *globals, dirs []string) (*spec.Tree, error) {
	tree, diags, err := spec.Load(ctx, dirs)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	if err := reportDiagnostics(g, diags); err != nil {
		return nil, err
	}
	return tree, nil
}

// loadAndRender loads, renders and validates dirs offline the way diff and
// apply consume them: every ${NAME} must be set and pinned manifest URLs
// are fetched. The redactor learns the plan's Secret values.
func loadAndRender(ctx context.Context, g *globals, dirs []string, opts render.Options) (*render.Result, error) {
	res, diags, err := renderSpecs(ctx, g, dirs, opts)
	if err != nil {
		return nil, err
	}
	if err := reportDiagnostics(g, append(diags, validate.Check(res, validate.Options{})...)); err != nil {
		return nil, err
	}
	return res, nil
}

// session is a rendered, validated plan and the cluster it is for.
type session struct {
	plan *render.Result
	c    *kube.Clients
	// merger is the client-side merge, knowing the cluster's CRDs and its
	// mutating admission.
	merger *ssa.Merger
}

// diffOptions are the options of every diff of the session.
func (s *session) diffOptions(g *globals) diff.Options {
	return diff.Options{Redactor: g.red, Merger: s.merger}
}

// loadPlan is loadAndRender for the commands that talk to the cluster: it
// connects first, so that custom resources are validated against the
// cluster's CRDs too (those a chart installed). Reading them, and the
// mutating admission configuration, are the only requests made before the
// plan is valid; nothing reaches the cluster unless it is.
func loadPlan(ctx context.Context, g *globals, dirs []string, opts render.Options) (*session, error) {
	res, diags, err := renderSpecs(ctx, g, dirs, opts)
	if err != nil {
		return nil, err
	}
	c, err := connect(g, res.Tables)
	if err != nil {
		return nil, err
	}
	crds, err := validate.ClusterCRDs(ctx, c.Dynamic)
	if err != nil {
		g.log.Warn().Str("error", g.red.String(err.Error())).Msg("the cluster's CRDs cannot be read: custom resources are checked against the plan's and the spec tree's schemas only, and by the server's dry run")
	}
	if err := reportDiagnostics(g, append(diags, validate.Check(res, validate.Options{CRDs: crds})...)); err != nil {
		return nil, err
	}
	defs := make([]*apiextensionsv1.CustomResourceDefinition, len(crds))
	for i, crd := range crds {
		defs[i] = crd.CustomResourceDefinition
	}
	merger := ssa.NewMerger(ssa.Options{CRDs: defs, Admission: ssa.ReadAdmission(ctx, c.Typed)})
	return &session{plan: res, c: c, merger: merger}, nil
}

// renderSpecs loads and renders dirs; render errors stop it (printed).
func renderSpecs(ctx context.Context, g *globals, dirs []string, opts render.Options) (*render.Result, spec.Diagnostics, error) {
	tree, err := loadSpecs(ctx, g, dirs)
	if err != nil {
		return nil, nil, err
	}
	g.cluster = tree.Cluster
	res, diags := renderTree(ctx, g, tree, opts)
	if diags.HasErrors() {
		return nil, nil, reportDiagnostics(g, diags)
	}
	return res, diags, nil
}

// renderTree renders a loaded tree as the commands do — ${NAME}s from the
// environment, URL manifests through the cache, sops files decrypted —
// and teaches the redactor the plan's secret values.
func renderTree(ctx context.Context, g *globals, tree *spec.Tree, opts render.Options) (*render.Result, spec.Diagnostics) {
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	if opts.Fetcher == nil {
		opts.Fetcher = g.manifestFetcher(true)
	}
	if opts.Decrypt == nil {
		opts.Decrypt = secret.Decrypt
	}
	res, diags := render.Render(ctx, tree, opts)
	if res != nil {
		g.red.Add(res.Unstructured()...)
		g.red.AddValues(res.Secrets...)
	}
	return res, diags
}

// connect builds the clients of the cluster --kubeconfig, --context and
// KUBECONFIG name, once per command; tables (nil: none) give the hints of
// unserved kinds.
func connect(g *globals, tables *spec.Tables) (*kube.Clients, error) {
	if g.apiAttempts < 1 {
		return nil, withCode(exitUsage, fmt.Errorf("--api-attempts %d: must be at least 1", g.apiAttempts))
	}
	opts := kube.Options{Kubeconfig: g.kubeconfig, Context: g.context, Warnings: kube.WarningLogger(g.log, g.red.String),
		Retry: kube.Retry{Attempts: g.apiAttempts}, Log: g.log}
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
