package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/plancheck"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/seal"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/ssa"
	"kcloud.dev/kcloud/pkg/validate"
)

// loadOptions say how far load goes for a command.
type loadOptions struct {
	// render renders the tree into the plan and validates it; nil stops at
	// the tree (manifests fetch and add).
	render *render.Options
	// online connects to the cluster before the plan is validated, so that
	// custom resources are checked against its CRDs too (those a chart
	// installed), and builds the client-side merge.
	online bool
	// vet collects every diagnostic in the session instead of printing
	// them and stopping at the first stage with errors: a tree with errors
	// is still rendered where it can be, lenient and offline. online is
	// then only a read of the cluster's CRDs.
	vet bool
	// strict makes a kind with no schema, or an image tag without a
	// digest, an error (vet --strict).
	strict bool
	// at is the git revision a tree was extracted from (diff --against):
	// its files are named rev:path, and its diagnostics are printed only
	// when they hold errors.
	at *checkout
}

// session is what a command works on: the spec tree, its plan (nil when
// not rendered), and the cluster when the command talks to one. Loading
// sets nothing else: the wrong-cluster guard is a step each command takes
// on the session, or says why it does not.
type session struct {
	tree *spec.Tree
	plan *render.Result
	// diags are the diagnostics a vet load collected, sorted.
	diags spec.Diagnostics
	c     *kube.Clients
	// merger is the client-side merge, knowing the cluster's CRDs and its
	// mutating admission; online loads only.
	merger *ssa.Merger
}

// load is the one load path of the commands: it loads the spec tree of
// dirs; renders it, teaching the redactor the plan's secret values; connects
// (online); and validates the plan offline, and against the cluster's CRDs
// online. I/O and usage problems exit 2, invalid specs 1; diagnostics go to
// stderr (except for vet, which prints them itself). Reading the API's
// discovery, the cluster's CRDs and its mutating admission configuration
// (readAhead, while the tree is loaded, rendered and checked) and what a chart's
// lookup asks are the only requests made before the plan is valid: nothing
// of the specs reaches the cluster unless it is.
func load(ctx context.Context, g *globals, dirs []string, o loadOptions) (*session, error) {
	l := &loader{g: g, o: o, s: &session{}}
	defer l.stopReading()
	for _, step := range []func(context.Context, []string) error{l.readAhead, l.loadTree, l.renderPlan, l.connect, l.validate} {
		if err := step(ctx, dirs); err != nil {
			return nil, err
		}
	}
	l.s.diags = l.s.diags.Sorted()
	if l.o.online && !l.o.vet {
		l.s.release()
	}
	return l.s, nil
}

// release drops what only the checks of a load need, once the plan is
// valid: of the tree, an online command reads only the Cluster and the
// Tables; of the plan, no syntax (it locates fields for diagnostics). A
// large tree's documents and syntax trees are then not held through the
// run, beside the live objects it reads.
func (s *session) release() {
	s.tree = &spec.Tree{Tables: s.tree.Tables, Cluster: s.tree.Cluster}
	for _, stacks := range [][]render.Stack{s.plan.Stacks, s.plan.Others} {
		for _, st := range stacks {
			for i := range st.Objects {
				st.Objects[i].Syntax = spec.Syntax{}
			}
		}
	}
	for i := range s.plan.Schemas {
		s.plan.Schemas[i].Syntax = spec.Syntax{}
	}
}

// loader is one load.
type loader struct {
	g *globals
	o loadOptions
	s *session
	// pending are diagnostics printed with the next stage's (the render's
	// warnings with the validation's).
	pending spec.Diagnostics
	// ahead reads the cluster while the tree is loaded, rendered and
	// checked (readAhead); nil when it does not.
	ahead *clusterReads
}

func (l *loader) loadTree(ctx context.Context, dirs []string) error {
	if l.o.at != nil {
		dirs = l.o.at.dirs
	}
	tree, diags, err := spec.LoadPartial(ctx, dirs)
	if err != nil {
		if l.o.at != nil {
			err = fmt.Errorf("at %s: %w", l.o.at.ref, errors.New(l.o.at.rename(err.Error())))
		}
		return withCode(exitUsage, err)
	}
	if l.o.vet {
		l.s.tree, l.s.diags = tree, diags
		if tree.Cluster != nil {
			l.s.diags = append(l.s.diags, tree.MissingVars(os.LookupEnv, spec.SeverityWarning, true)...)
			l.s.diags = append(l.s.diags, tree.MissingVars(os.LookupEnv, spec.SeverityWarning, false)...)
			l.s.diags = append(l.s.diags, tree.DemoWarnings()...)
		}
		return nil
	}
	if err := l.report(diags, diags.HasErrors()); err != nil {
		return err
	}
	if l.o.render != nil {
		if err := l.o.render.CheckSelection(tree); err != nil {
			return withCode(exitUsage, err)
		}
	}
	l.s.tree = tree
	return nil
}

func (l *loader) renderPlan(ctx context.Context, dirs []string) error {
	if l.o.render == nil || (l.o.vet && l.s.tree.Cluster == nil) {
		return nil
	}
	opts := *l.o.render
	opts.Getenv = os.LookupEnv
	opts.Decrypt = l.g.decrypt
	opts.Fetcher = l.g.manifestFetcher(!l.o.vet)
	if l.o.at != nil {
		dirs = l.o.at.dirs
	}
	charts, err := l.g.chartSource(dirs, !l.o.vet)
	if err != nil {
		return withCode(exitUsage, err)
	}
	opts.Charts = charts
	opts.Strict = l.o.strict
	if l.o.vet {
		opts.Lenient = true
	} else if l.o.online && l.o.at == nil {
		opts.Lookup = l.liveLookup
	}
	plan, diags := render.Render(ctx, l.s.tree, opts)
	if plan != nil {
		l.g.red.Add(plan.Unstructured()...)
		l.g.red.AddValues(plan.Secrets...)
	}
	if l.o.vet {
		l.s.plan = plan
		l.s.diags = append(l.s.diags, diags...)
		return nil
	}
	if diags.HasErrors() {
		return l.report(diags, true)
	}
	l.s.plan, l.pending = plan, diags
	return nil
}

// decrypt decrypts a sops file for the render, teaching the redactor each
// value first (the base64 of a Secret's data decoded too): a render that
// fails, or vet, may quote one in a diagnostic, and nothing is printed
// before the redactor knows it.
func (g *globals) decrypt(src []byte) ([]byte, error) {
	plain, vals, err := secret.DecryptValues(src)
	for _, v := range vals {
		if dec, derr := base64.StdEncoding.DecodeString(v); derr == nil && len(dec) > 0 && utf8.Valid(dec) {
			vals = append(vals, string(dec))
		}
	}
	g.red.AddValues(vals...)
	return plain, err
}

// seals are the seals of the session's cluster (pkg/seal), in the user's
// cache directory; nil when it has none.
func (s *session) seals() *seal.Memo { return seal.New(s.c.Host) }

// connect builds the clients of an online load. For vet, naming a cluster
// that cannot be reached is a usage problem: vet is an offline command.
func (l *loader) connect(context.Context, []string) error {
	if !l.o.online || l.s.plan == nil || l.s.c != nil {
		return nil
	}
	c, err := l.g.connect(l.s.plan.Tables)
	if err != nil && l.o.vet {
		return atLeast(exitUsage, err)
	}
	l.s.c = c
	return err
}

// liveLookup answers a chart's lookup of what the plan does not hold from
// the cluster, read only (a GET or a LIST), connecting on first use: the
// only requests of a load before its plan is valid besides the schema
// reads. What it reads of a Secret teaches the redactor first, so a chart
// that renders a looked-up value cannot print it. A kind the cluster does
// not serve, like an object it does not hold, is answered with nothing.
func (l *loader) liveLookup(ctx context.Context, apiVersion, kind, namespace, name string) (map[string]any, error) {
	if l.s.c == nil {
		c, err := l.g.connect(l.s.tree.Tables)
		if err != nil {
			return nil, err
		}
		l.s.c = c
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	m, err := l.s.c.Mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if meta.IsNoMatchError(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	res := l.s.c.Dynamic.Resource(m.Resource)
	var ri dynamic.ResourceInterface = res
	if m.Scope.Name() == meta.RESTScopeNameNamespace && namespace != "" {
		ri = res.Namespace(namespace)
	}
	if name == "" {
		list, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			l.g.red.Add(&list.Items[i])
		}
		return list.UnstructuredContent(), nil
	}
	obj, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	l.g.red.Add(obj)
	return obj.UnstructuredContent(), nil
}

// validate checks the plan's objects against their kinds' schemas: the
// cluster's CRDs too when online. The plan of a revision is only compared
// with, never applied: it is not validated.
func (l *loader) validate(ctx context.Context, _ []string) error {
	if l.s.plan == nil || l.o.at != nil {
		return nil
	}
	var crds []validate.CRD
	if l.s.c != nil {
		var err error
		if l.ahead != nil {
			<-l.ahead.done
			crds, err = l.ahead.crds, l.ahead.err
		} else {
			crds, err = validate.ClusterCRDs(ctx, l.s.c.Typed)
		}
		switch {
		case err != nil && l.o.vet:
			return withCode(exitUsage, err)
		case err != nil:
			l.g.log.Warn().Str("error", l.g.red.String(err.Error())).Msg("the cluster's CRDs cannot be read: custom resources are checked against the plan's and the spec tree's schemas only, and by the server's dry run")
		}
	}
	diags := validate.Check(l.s.plan, validate.Options{Strict: l.o.strict, CRDs: crds})
	// References, images and exposure, over the whole plan: what a
	// selection leaves out is still what the selected stacks name.
	diags = append(diags, plancheck.Check(l.s.plan, l.s.tree, plancheck.Options{Strict: l.o.strict})...)
	if l.o.vet {
		l.s.diags = append(l.s.diags, diags...)
		return nil
	}
	diags = append(l.pending, diags...)
	if err := l.report(diags, diags.HasErrors()); err != nil {
		return err
	}
	if l.ahead != nil {
		l.s.merger = l.ahead.merger
	}
	return nil
}

// report prints diags to stderr (with the files of a revision named
// rev:path, and only when they hold errors) and turns errors into exit 1.
func (l *loader) report(diags spec.Diagnostics, hasErrors bool) error {
	if l.o.at == nil {
		return reportDiagnostics(l.g, diags)
	}
	if !hasErrors {
		return nil
	}
	for i := range diags {
		diags[i].Pos.File = l.o.at.rename(diags[i].Pos.File)
	}
	_ = printer.Diagnostics(l.g.stderr, diags, diagOptions("text"))
	return withCode(exitFailed, fmt.Errorf("invalid specs at %s", l.o.at.ref))
}

// diffOptions are the options of every diff of the session.
func (s *session) diffOptions(g *globals) diff.Options {
	return diff.Options{Redactor: g.red, Merger: s.merger}
}

// connect builds the clients of the cluster --kubeconfig, --context and
// KUBECONFIG name, with --api-attempts; tables (nil: none) give the hints
// of unserved kinds. Every command that talks to a cluster connects here.
func (g *globals) connect(tables *spec.Tables) (*kube.Clients, error) {
	if g.apiAttempts < 1 {
		return nil, withCode(exitUsage, fmt.Errorf("--api-attempts %d: must be at least 1", g.apiAttempts))
	}
	opts := kube.Options{Kubeconfig: g.kubeconfig, Context: g.context, Warnings: kube.WarningLogger(g.log, g.red.String),
		Retry: kube.Retry{Attempts: g.apiAttempts}, Log: g.log}
	if tables != nil {
		opts.Hint = tables.Hint
	}
	c, err := kube.New(opts)
	if errors.Is(err, kube.ErrNoKubeconfig) {
		err = fmt.Errorf("%w: name the cluster's kubeconfig with --kubeconfig FILE or KUBECONFIG=FILE, "+
			"or create the cluster and its kubeconfig with 'kcloud bootstrap'", err)
	}
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
