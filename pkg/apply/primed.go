package apply

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// primedClient serves the first GET of each object from what the plan's
// dry runs read moments before, then reads through. cli-utils reads every
// object once before applying it (its inventory-policy check), one round
// trip at a time: priming halves the round trips of a stack.
type primedClient struct {
	dynamic.Interface

	mu   sync.Mutex
	objs map[primeKey]*unstructured.Unstructured // nil value: known absent
}

type primeKey struct {
	gr              schema.GroupResource
	namespace, name string
}

var (
	_ dynamic.Interface                      = (*primedClient)(nil)
	_ dynamic.NamespaceableResourceInterface = primedResource{}
	_ dynamic.ResourceInterface              = primedNamespaced{}
)

func newPrimedClient(c dynamic.Interface) *primedClient {
	return &primedClient{Interface: c, objs: map[primeKey]*unstructured.Unstructured{}}
}

// prime records the live object (nil: there is none).
func (p *primedClient) prime(gr schema.GroupResource, namespace, name string, live *unstructured.Unstructured) {
	p.mu.Lock()
	p.objs[primeKey{gr, namespace, name}] = live
	p.mu.Unlock()
}

// forget drops an object whose live state changed since it was primed.
func (p *primedClient) forget(gr schema.GroupResource, namespace, name string) {
	p.mu.Lock()
	delete(p.objs, primeKey{gr, namespace, name})
	p.mu.Unlock()
}

// take returns and forgets a primed object.
func (p *primedClient) take(k primeKey) (obj *unstructured.Unstructured, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	obj, ok = p.objs[k]
	delete(p.objs, k)
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
		if obj, ok := r.p.take(primeKey{r.gvr.GroupResource(), r.ns, name}); ok {
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
