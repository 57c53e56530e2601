package apply_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/render"
)

// TestAdoptRealChartRelease: a real chart (external-dns 1.21.1, from
// ../shared/upstream/charts) installed by the Helm SDK — a Deployment, a
// Service, a ServiceAccount, a ClusterRole and its binding — is adopted
// by a component rendering the same objects: no DELETE and no create
// reach the API server for any of them (counted at the fault proxy), every
// uid is unchanged, the release's Secret is gone and the next diff is
// empty.
func TestAdoptRealChartRelease(t *testing.T) {
	archive := filepath.Join(testenv.UpstreamCharts(), "external-dns-1.21.1.tgz")
	ch, err := loader.Load(archive)
	if err != nil {
		testenv.Note(t, "external-dns-1.21.1.tgz is not here (../shared/upstream/charts): adoption of a real chart's release not tested")
		t.Skip(err)
	}
	p, c := proxied(t)
	_, opts, id := setup(t)
	ns := "realadopt-" + id
	ctx := context.Background()
	if _, err := apply.Run(ctx, c, plan(stack(t, "l4-"+id, ns, nsDoc)), opts); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := testenv.Shared(t).WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	// A release name of its own: the chart's cluster-scoped objects are
	// named after it.
	name := "edns-" + id
	manifest := testenv.HelmInstall(t, kubeconfig, ns, name, ch, nil)
	s := stack(t, "l4-"+id, ns, nsDoc)
	for _, u := range manifestObjects(t, c, manifest, ns) {
		s.Objects = append(s.Objects, render.Object{Unstructured: u, Component: name, Template: "external-dns/templates/" + strings.ToLower(u.GetKind()) + ".yaml"})
	}
	if len(s.Objects) < 5 {
		t.Fatalf("the release installed %d object(s), want external-dns's 5", len(s.Objects)-1)
	}
	dyn := dynamic.NewForConfigOrDie(testenv.Shared(t).Config())
	before := liveUIDs(t, c, dyn, s)

	var mu sync.Mutex
	var writes []string // DELETEs and creates (POST) of anything but the lock and inventory
	p.Inject(testenv.Rule{When: func(r *http.Request) bool {
		if (r.Method == http.MethodDelete || r.Method == http.MethodPost) && !isDryRun(r) && !strings.Contains(r.URL.Path, "/leases") && !strings.Contains(r.URL.Path, "/configmaps") {
			mu.Lock()
			writes = append(writes, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		return false
	}})
	if _, err := apply.Run(ctx, c, plan(s), opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"DELETE /api/v1/namespaces/" + ns + "/secrets/sh.helm.release.v1." + name + ".v1"}, writes); diff != "" {
		t.Errorf("deletes and creates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, liveUIDs(t, c, dyn, s)); diff != "" {
		t.Errorf("uids (-before +after):\n%s", diff)
	}
	res, err := diff.Run(ctx, c, plan(s), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Changes {
		if ch.Changed() || ch.Conflict != change.NoConflict {
			t.Errorf("after adoption: %s %s %s\n%s", ch.Ref, ch.Action, ch.Conflict, ch.Diff)
		}
	}
}

// manifestObjects parses a release manifest, namespaced objects that name
// no namespace put in ns.
func manifestObjects(t *testing.T, c *kube.Clients, manifest, ns string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Object) == 0 {
			continue
		}
		m, err := c.Mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		if m.Scope.Name() == meta.RESTScopeNameNamespace && u.GetNamespace() == "" {
			u.SetNamespace(ns)
		}
		out = append(out, u)
	}
}

// liveUIDs reads the uid of every object of a stack.
func liveUIDs(t *testing.T, c *kube.Clients, dyn dynamic.Interface, s render.Stack) map[string]types.UID {
	t.Helper()
	out := map[string]types.UID{}
	for _, o := range s.Objects {
		m, err := c.Mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		var res dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			res = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		live, err := res.Get(context.Background(), o.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", change.RefOf(o.Unstructured), err)
		}
		out[change.RefOf(o.Unstructured).String()] = live.GetUID()
	}
	return out
}
