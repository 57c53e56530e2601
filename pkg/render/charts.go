package render

import (
	"context"
	"errors"
	"runtime"

	"golang.org/x/sync/errgroup"
	"helm.sh/helm/v4/pkg/chart/common"

	"kcloud.dev/kcloud/pkg/spec"
)

// pendingChart is a component's chart waiting to be rendered into a stack.
type pendingChart struct {
	stack int
	c     *spec.Component
	layer spec.Layer
	env   string
}

// errLookupDeferred stops a render that calls lookup before its turn.
var errLookupDeferred = errors.New("lookup deferred to the chart's turn")

// renderCharts renders the pending charts into their stacks, with the
// result of rendering them one by one in order: a chart's lookups see the
// objects of the charts before it, not after. With more than one CPU,
// every chart is first rendered on every CPU with a lookup that stops the
// render; those that called lookup are rendered again, in order, each once
// the charts ahead of it are in the stacks. A chart that never calls
// lookup gives the same objects whenever it is rendered.
func (r *renderer) renderCharts(charts []pendingChart, stacks []Stack) {
	if len(charts) == 0 {
		return
	}
	jobs := make([]*chartJob, len(charts))
	for i, p := range charts {
		ns := r.componentNamespace(p.c, p.layer, p.env)
		jobs[i] = r.prepareChart(p.c, ns, r.lookup(p.c, ns, p.env))
	}
	caps := r.capabilities()
	ahead := runtime.GOMAXPROCS(0) > 1
	if ahead {
		renderEach(r.ctx, jobs, func(ctx context.Context, j *chartJob) {
			j.render(ctx, caps, func(string, string, string, string) (map[string]any, error) {
				j.deferred = true
				return nil, errLookupDeferred
			})
		})
	}
	for i, j := range jobs {
		if j == nil {
			continue
		}
		if !ahead || j.deferred {
			r.renderInTurn(j, stacks, caps)
		}
		stacks[charts[i].stack].Objects = append(stacks[charts[i].stack].Objects, r.chartObjects(j)...)
	}
}

// renderInTurn renders j afresh, its lookups answered from the stacks as
// they are.
func (r *renderer) renderInTurn(j *chartJob, stacks []Stack, caps *common.Capabilities) {
	*j = chartJob{c: j.c, ns: j.ns, src: j.src, ch: copyChart(j.src), values: j.values}
	lk := &chartLookup{ctx: r.ctx, stacks: stacks, live: r.opts.Lookup}
	j.render(r.ctx, caps, lk.lookup)
	j.missed = lk.missed
}

// renderEach calls render for each job but nil ones, on every CPU.
func renderEach(ctx context.Context, jobs []*chartJob, render func(context.Context, *chartJob)) {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, j := range jobs {
		if j != nil {
			g.Go(func() error { render(ctx, j); return nil })
		}
	}
	_ = g.Wait() // render reports into its job, never here
}
