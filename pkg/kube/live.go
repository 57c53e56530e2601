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

	mu     sync.Mutex
	counts map[readKey]int
	lists  map[readKey]*listEntry
}

type readKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

type listEntry struct {
	once  sync.Once
	items map[string]*unstructured.Unstructured
	err   error
}

// NewReader returns a Reader over c.
func NewReader(c *Clients) *Reader {
	return &Reader{c: c, counts: map[readKey]int{}, lists: map[readKey]*listEntry{}}
}

// Expect announces that an object of gvr in namespace will be read.
func (r *Reader) Expect(gvr schema.GroupVersionResource, namespace string) {
	r.mu.Lock()
	r.counts[readKey{gvr, namespace}]++
	r.mu.Unlock()
}

// Get returns the live object, or nil when there is none.
func (r *Reader) Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	key := readKey{gvr, namespace}
	r.mu.Lock()
	useList := r.counts[key] >= ListThreshold
	e := r.lists[key]
	if useList && e == nil {
		e = &listEntry{}
		r.lists[key] = e
	}
	r.mu.Unlock()
	if useList {
		e.once.Do(func() {
			list, err := r.c.Dynamic.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				e.err = err
				return
			}
			e.items = make(map[string]*unstructured.Unstructured, len(list.Items))
			for i := range list.Items {
				e.items[list.Items[i].GetName()] = &list.Items[i]
			}
		})
		if e.err == nil {
			return e.items[name], nil
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
