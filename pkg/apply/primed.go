package apply

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"kcloud.dev/kcloud/pkg/change"
)

// primedClient serves the first GET of each object from what the plan's
// dry runs read moments before, then reads through. cli-utils reads every
// object once before applying it (its inventory-policy check), one round
// trip at a time: priming halves the round trips of a stack.
type primedClient struct {
	dynamic.Interface
	// mapper names the kind of a resource read, for the Ref of the object.
	mapper meta.RESTMapper

	mu   sync.Mutex
	objs map[change.Ref]*unstructured.Unstructured // nil value: known absent
}

var (
	_ dynamic.Interface                      = (*primedClient)(nil)
	_ dynamic.NamespaceableResourceInterface = primedResource{}
	_ dynamic.ResourceInterface              = primedNamespaced{}
)

func newPrimedClient(c dynamic.Interface, mapper meta.RESTMapper) *primedClient {
	return &primedClient{Interface: c, mapper: mapper, objs: map[change.Ref]*unstructured.Unstructured{}}
}

// prime records the live object (nil: there is none).
func (p *primedClient) prime(ref change.Ref, live *unstructured.Unstructured) {
	p.mu.Lock()
	p.objs[ref] = live
	p.mu.Unlock()
}

// forget drops an object whose live state changed since it was primed.
func (p *primedClient) forget(ref change.Ref) {
	p.mu.Lock()
	delete(p.objs, ref)
	p.mu.Unlock()
}

// take returns and forgets the primed object of gvr, if there is one.
func (p *primedClient) take(gvr schema.GroupVersionResource, namespace, name string) (obj *unstructured.Unstructured, ok bool) {
	p.mu.Lock()
	empty := len(p.objs) == 0
	p.mu.Unlock()
	if empty {
		return nil, false
	}
	gvk, err := p.mapper.KindFor(gvr)
	if err != nil {
		return nil, false // read through
	}
	ref := change.Ref{GroupKind: gvk.GroupKind(), Namespace: namespace, Name: name}
	p.mu.Lock()
	defer p.mu.Unlock()
	obj, ok = p.objs[ref]
	delete(p.objs, ref)
	return obj, ok
}

func (p *primedClient) Resource(r schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return primedResource{NamespaceableResourceInterface: p.Interface.Resource(r), p: p, gvr: r}
}

type primedResource struct {
	dynamic.NamespaceableResourceInterface
	p   *primedClient
	gvr schema.GroupVersionResource
}

func (r primedResource) Namespace(ns string) dynamic.ResourceInterface {
	return primedNamespaced{ResourceInterface: r.NamespaceableResourceInterface.Namespace(ns), p: r.p, gvr: r.gvr, ns: ns}
}

type primedNamespaced struct {
	dynamic.ResourceInterface
	p   *primedClient
	gvr schema.GroupVersionResource
	ns  string
}

func (r primedNamespaced) Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*unstructured.Unstructured, error) {
	if len(sub) == 0 && opts.ResourceVersion == "" {
		if obj, ok := r.p.take(r.gvr, r.ns, name); ok {
			if obj == nil {
				return nil, apierrors.NewNotFound(r.gvr.GroupResource(), name)
			}
			if obj.GroupVersionKind().Version == r.gvr.Version {
				return obj.DeepCopy(), nil
			}
		}
	}
	return r.ResourceInterface.Get(ctx, name, opts, sub...)
}
