package kube

import (
	"context"
	"sync"

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
}

// listEntry is one resource in one namespace: how many of its objects
// will be read, and the list read once when that is enough of them.
type listEntry struct {
	expected int
	once     sync.Once
	err      error

	mu    sync.Mutex
	items map[string]*unstructured.Unstructured
	taken map[string]bool
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
		e = &listEntry{}
		byNS[namespace] = e
	}
	return e
}

// Expect announces that an object of gvr in namespace will be read.
func (r *Reader) Expect(gvr schema.GroupVersionResource, namespace string) {
	r.mu.Lock()
	r.entry(gvr, namespace).expected++
	r.mu.Unlock()
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
	useList := e.expected >= ListThreshold
	r.mu.Unlock()
	if useList {
		e.once.Do(func() {
			list, err := r.c.Dynamic.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				e.err = err
				return
			}
			// Each object on its own, not pointing into the list: one
			// taken and dropped is then garbage.
			e.items = make(map[string]*unstructured.Unstructured, len(list.Items))
			e.taken = map[string]bool{}
			for _, item := range list.Items {
				e.items[item.GetName()] = &unstructured.Unstructured{Object: item.Object}
			}
		})
		if e.err == nil {
			e.mu.Lock()
			defer e.mu.Unlock()
			if !e.taken[name] {
				obj := e.items[name]
				if take {
					delete(e.items, name)
					e.taken[name] = true
				}
				return obj, nil
			}
			// Taken before: the list no longer holds it.
		}
		// Not allowed to list, say: get it instead.
	}
	obj, err := r.c.Dynamic.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// Parallel runs f(0…n-1) on at most workers goroutines, stopping early
// when ctx is done.
func Parallel(ctx context.Context, workers, n int, f func(i int)) {
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
