package kube_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/kube"
)

// TestReaderTakeHandsAListedObjectOutOnce reads ConfigMaps of one
// namespace, enough to be listed: Get serves an object from the list as
// often as asked; Take serves it from the list once, and a second Take asks
// the server (GET) and still finds it; an object that does not exist is
// nil either way, without a GET; one the list holds but nobody announced
// (not decoded) is read with a GET.
func TestReaderTakeHandsAListedObjectOutOnce(t *testing.T) {
	ctx := context.Background()
	p, c := proxied(t)
	ns := "reader-take"
	if _, err := c.Typed.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	r := kube.NewReader(c)
	for i := range kube.ListThreshold {
		name := fmt.Sprintf("cm-%d", i)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string]string{"i": fmt.Sprint(i)}}
		if _, err := c.Typed.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		r.Expect(gvr, ns, name)
	}
	// One more in the namespace, never announced: listed, not decoded,
	// read with a GET when asked for.
	extra := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "extra", Namespace: ns}, Data: map[string]string{"i": "x"}}
	if _, err := c.Typed.CoreV1().ConfigMaps(ns).Create(ctx, extra, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	read := func(take bool, name string) (data string, found bool) {
		t.Helper()
		get := r.Get
		if take {
			get = r.Take
		}
		obj, err := get(ctx, gvr, ns, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if obj == nil {
			return "", false
		}
		return obj.Object["data"].(map[string]any)["i"].(string), true
	}
	for _, step := range []struct {
		take        bool
		name, data  string
		found       bool
		lists, gets int // requests sent so far
	}{
		{take: false, name: "cm-1", data: "1", found: true, lists: 1},
		{take: false, name: "cm-1", data: "1", found: true, lists: 1},
		{take: true, name: "cm-1", data: "1", found: true, lists: 1},
		{take: true, name: "cm-1", data: "1", found: true, lists: 1, gets: 1},
		{take: false, name: "cm-1", data: "1", found: true, lists: 1, gets: 2},
		{take: true, name: "cm-2", data: "2", found: true, lists: 1, gets: 2},
		{take: true, name: "absent", found: false, lists: 1, gets: 2},
		{take: false, name: "extra", data: "x", found: true, lists: 1, gets: 3},
	} {
		data, found := read(step.take, step.name)
		if data != step.data || found != step.found {
			t.Errorf("take=%v %s: %q found=%v, want %q found=%v", step.take, step.name, data, found, step.data, step.found)
		}
		if l, g := p.Count(testenv.VerbList), p.Count(testenv.VerbGet); l != step.lists || g != step.gets {
			t.Errorf("take=%v %s: %d LIST(s) and %d GET(s) so far, want %d and %d", step.take, step.name, l, g, step.lists, step.gets)
		}
	}
}

// TestReaderReadsOneListAhead: with ReadAhead, the first read of a listed
// resource also lists the next one Expect announced, passing over a
// skipped namespace, and no further; reading that one lists the one after
// it, whose objects are then served without another request.
func TestReaderReadsOneListAhead(t *testing.T) {
	ctx := context.Background()
	p, c := proxied(t)
	ns, skipped := "reader-ahead", "reader-ahead-skipped"
	if _, err := c.Typed.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Version: "v1", Resource: r}
	}
	// Announced in this order: each entry is listed, by its count.
	order := []struct {
		gvr schema.GroupVersionResource
		ns  string
	}{{res("configmaps"), ns}, {res("configmaps"), skipped}, {res("secrets"), ns}, {res("serviceaccounts"), ns}, {res("services"), ns}}
	r := kube.NewReader(c)
	for _, e := range order {
		for i := range kube.ListThreshold {
			r.Expect(e.gvr, e.ns, fmt.Sprint("o-", i))
		}
	}
	p.Reset()
	var lists []string
	var mu sync.Mutex
	remove := p.OnRequest(testenv.Hook{N: 1 << 30, Func: func(*http.Request) {}, Match: func(req *http.Request) bool {
		if testenv.RequestVerb(req) == testenv.VerbList {
			mu.Lock()
			lists = append(lists, req.URL.Path)
			mu.Unlock()
		}
		return false
	}})
	defer remove()
	wait := r.ReadAhead(func(n string) bool { return n == skipped })
	listed := func(want ...string) {
		t.Helper()
		wait()
		mu.Lock()
		defer mu.Unlock()
		// The LIST ahead may reach the server first.
		if got := slices.Sorted(slices.Values(lists)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("LISTs sent: %q, want %q", got, want)
		}
	}
	path := func(resource string) string { return "/api/v1/namespaces/" + ns + "/" + resource }
	if _, err := r.Take(ctx, res("configmaps"), ns, "absent"); err != nil {
		t.Fatal(err)
	}
	// The configmaps' LIST and, ahead, the secrets' (not the skipped
	// namespace's, not the service accounts').
	listed(path("configmaps"), path("secrets"))
	if _, err := r.Take(ctx, res("secrets"), ns, "absent"); err != nil {
		t.Fatal(err)
	}
	listed(path("configmaps"), path("secrets"), path("serviceaccounts"))
	if _, err := r.Take(ctx, res("serviceaccounts"), ns, "absent"); err != nil {
		t.Fatal(err)
	}
	listed(path("configmaps"), path("secrets"), path("serviceaccounts"), path("services"))
	if n := p.Count(testenv.VerbGet); n != 0 {
		t.Errorf("%d GET(s): every read was served from a list", n)
	}
}

// TestParallelDefaultsItsWorkers: with no worker count, every index still
// runs once (on DefaultWorkers goroutines); with none started, Parallel
// would block on its first index.
func TestParallelDefaultsItsWorkers(t *testing.T) {
	var mu sync.Mutex
	var ran []int
	kube.Parallel(context.Background(), 0, 40, func(i int) {
		mu.Lock()
		ran = append(ran, i)
		mu.Unlock()
	})
	slices.Sort(ran)
	want := make([]int, 40)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(ran, want) {
		t.Fatalf("ran %v, want 0…39 once each", ran)
	}
}
