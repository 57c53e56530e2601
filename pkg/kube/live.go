package kube

import (
	"context"
	"sync"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ListThreshold is how many objects of one resource in one namespace make
// one LIST cheaper than a GET each.
const ListThreshold = 8

// Reader reads live objects for bulk work: where many objects share a
// resource and namespace it lists them once instead of getting each. Tell
// it what will be read with Expect first. Safe for concurrent use.
type Reader struct {
	c *Clients

	mu    sync.Mutex
	lists map[schema.GroupVersionResource]map[string]*listEntry // by resource, then namespace
	// order are the entries in the order Expect first named them.
	order []*listEntry
	// skip says where not to read ahead (ReadAhead); nil: no read-ahead.
	skip  func(namespace string) bool
	ahead sync.WaitGroup
}

// listEntry is one resource in one namespace: how many of its objects
// will be read, and the list read once when that is enough of them.
type listEntry struct {
	gvr       schema.GroupVersionResource
	namespace string
	at        int // in Reader.order
	// names are the objects Expect named: whether to LIST at all
	// (ListThreshold), and the only ones a LIST decodes.
	names map[string]bool
	once  sync.Once
	err   error
	// led is set once the entry has started its successor's LIST.
	led atomic.Bool

	mu    sync.Mutex
	items map[string]*unstructured.Unstructured
	taken map[string]bool
	// passed are the listed objects not decoded (not named to Expect).
	passed map[string]bool
}

// NewReader returns a Reader over c.
func NewReader(c *Clients) *Reader {
	return &Reader{c: c, lists: map[schema.GroupVersionResource]map[string]*listEntry{}}
}

// entry returns the list entry of gvr in namespace; r.mu is held.
func (r *Reader) entry(gvr schema.GroupVersionResource, namespace string) *listEntry {
	byNS := r.lists[gvr]
	if byNS == nil {
		byNS = map[string]*listEntry{}
		r.lists[gvr] = byNS
	}
	e := byNS[namespace]
	if e == nil {
		e = &listEntry{gvr: gvr, namespace: namespace, at: -1}
		byNS[namespace] = e
	}
	return e
}

// Expect announces that the object name of gvr in namespace will be read.
func (r *Reader) Expect(gvr schema.GroupVersionResource, namespace, name string) {
	r.mu.Lock()
	e := r.entry(gvr, namespace)
	if e.at < 0 {
		e.at = len(r.order)
		r.order = append(r.order, e)
		e.names = map[string]bool{}
	}
	e.names[name] = true
	r.mu.Unlock()
}

// ReadAhead makes each LIST start the next one Expect announced (in the
// order it named them) in the background, so that the next resource's
// objects arrive while this one's are used: one LIST ahead, not all of
// them, so that what is listed and not yet taken stays about two lists.
// Entries in a namespace for which skip reports true are passed over. The
// returned function waits for the LISTs started ahead.
func (r *Reader) ReadAhead(skip func(namespace string) bool) (wait func()) {
	r.mu.Lock()
	r.skip = skip
	r.mu.Unlock()
	return r.ahead.Wait
}

// lead starts, once, the LIST of the first entry after e that is listed
// and not skipped.
func (r *Reader) lead(ctx context.Context, e *listEntry) {
	r.mu.Lock()
	skip := r.skip
	var after []*listEntry
	if e.at >= 0 {
		after = r.order[e.at+1:]
	}
	r.mu.Unlock()
	if skip == nil || len(after) == 0 || e.led.Swap(true) {
		return
	}
	r.ahead.Go(func() {
		for _, n := range after {
			if len(n.names) >= ListThreshold && !skip(n.namespace) {
				r.list(ctx, n)
				return
			}
		}
	})
}

// Get returns the live object, or nil when there is none.
func (r *Reader) Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	return r.get(ctx, gvr, namespace, name, false)
}

// Take is Get for a caller that reads each object once and keeps what it
// needs: a listed object is handed out once and then forgotten, so that
// the objects of a large list are released as they are used, not held
// until the Reader is. Taking an object a second time asks the server.
func (r *Reader) Take(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	return r.get(ctx, gvr, namespace, name, true)
}

func (r *Reader) get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, take bool) (*unstructured.Unstructured, error) {
	r.mu.Lock()
	e := r.entry(gvr, namespace)
	useList := len(e.names) >= ListThreshold
	r.mu.Unlock()
	if useList {
		r.lead(ctx, e)
		r.list(ctx, e)
		if e.err == nil {
			e.mu.Lock()
			defer e.mu.Unlock()
			if !e.taken[name] && !e.passed[name] {
				obj := e.items[name]
				if take {
					delete(e.items, name)
					e.taken[name] = true
				}
				return obj, nil
			}
			// Taken before, or listed but not decoded (never named to
			// Expect): the list does not hold it.
		}
		// Not allowed to list, say: get it instead.
	}
	obj, err := r.c.Dynamic.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// list reads e's objects, once: those named to Expect are decoded, the
// others only passed over.
func (r *Reader) list(ctx context.Context, e *listEntry) {
	e.once.Do(func() {
		body, err := r.c.Raw.Get().AbsPath(resourcePath(e.gvr, e.namespace)...).Stream(ctx)
		if err != nil {
			e.err = err
			return
		}
		defer body.Close()
		e.items, e.passed, e.err = listItems(body, func(name string) bool { return e.names[name] })
		e.taken = map[string]bool{}
	})
}

// resourcePath is the URL path of a resource's objects in a namespace
// ("" for all namespaces, or a cluster-scoped resource).
func resourcePath(gvr schema.GroupVersionResource, namespace string) []string {
	p := []string{"/api"}
	if gvr.Group != "" {
		p = []string{"/apis", gvr.Group}
	}
	p = append(p, gvr.Version)
	if namespace != "" {
		p = append(p, "namespaces", namespace)
	}
	return append(p, gvr.Resource)
}

// Parallel runs f(0…n-1) on at most workers goroutines (DefaultWorkers
// when workers is not positive), stopping early when ctx is done.
func Parallel(ctx context.Context, workers, n int, f func(i int)) {
	if workers <= 0 {
		workers = DefaultWorkers
	}
	if workers > n {
		workers = n
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}
