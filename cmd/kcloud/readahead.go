package main

import (
	"context"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/ssa"
	"kcloud.dev/kcloud/pkg/validate"
)

// clusterReads are what an online load reads of the cluster before its
// plan is valid: the API's discovery, the CRDs, the mutating admission
// configuration, and the client-side merge built from them. None of them
// sends anything of the specs.
type clusterReads struct {
	cancel context.CancelFunc
	done   chan struct{}
	crds   []validate.CRD
	err    error // reading the CRDs
	merger *ssa.Merger
}

// readAhead connects and starts the cluster reads of an online command
// (diff, apply, status) before the tree is loaded, so that they overlap
// the load, the render and the offline check instead of following them. A
// kubeconfig that does not work is left to the connect step, which
// reports it in its turn (after the specs' errors, as before).
func (l *loader) readAhead(ctx context.Context, _ []string) error {
	if !l.o.online || l.o.vet || l.o.at != nil || l.o.render == nil {
		return nil
	}
	tabs, err := spec.LoadTables() // the tree's: compiled once, here or by the load
	if err != nil {
		return nil
	}
	c, err := l.g.connect(tabs)
	if err != nil {
		return nil
	}
	l.s.c = c
	ctx, cancel := context.WithCancel(ctx)
	r := &clusterReads{cancel: cancel, done: make(chan struct{})}
	l.ahead = r
	go func() {
		defer close(r.done)
		// Discovery fills the client's cache for the diff's mappings.
		_, _ = c.Mapping(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
		r.crds, r.err = validate.ClusterCRDs(ctx, c.Typed)
		defs := make([]*apiextensionsv1.CustomResourceDefinition, len(r.crds))
		for i, crd := range r.crds {
			defs[i] = crd.CustomResourceDefinition
		}
		r.merger = ssa.NewMerger(ssa.Options{CRDs: defs, Admission: ssa.ReadAdmission(ctx, c.Typed)})
	}()
	return nil
}

// stopReading cancels the cluster reads of a load that stops early
// (invalid specs) without waiting for them: the specs' errors are not held
// up by a cluster that answers slowly or not at all (discovery takes no
// context, and is retried). A load that succeeds has waited for them.
func (l *loader) stopReading() {
	if l.ahead != nil {
		l.ahead.cancel()
	}
}
