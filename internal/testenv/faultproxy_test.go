package testenv

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

func newProxy(t *testing.T) *FaultProxy {
	t.Helper()
	p, err := NewFaultProxy(Shared(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func get(t *testing.T, p *FaultProxy, path string) (*http.Response, error) {
	t.Helper()
	resp, err := http.Get(p.URL() + path)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestFaultProxyCountsByVerb(t *testing.T) {
	p := newProxy(t)
	cs := kubernetes.NewForConfigOrDie(p.Config())
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "proxy-counts"}}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, cm.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	got.Data = map[string]string{"a": "b"}
	if _, err := cms.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Patch(ctx, cm.Name, types.MergePatchType, []byte(`{"data":{"c":"d"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, v := range []string{VerbCreate, VerbGet, VerbList, VerbUpdate, VerbPatch, VerbDelete} {
		counts[v] = p.Count(v)
	}
	want := map[string]int{VerbCreate: 1, VerbGet: 1, VerbList: 1, VerbUpdate: 1, VerbPatch: 1, VerbDelete: 1}
	if d := cmp.Diff(want, counts); d != "" {
		t.Errorf("counts (-want +got):\n%s", d)
	}
	if p.Writes() != 4 {
		t.Errorf("Writes() = %d, want 4", p.Writes())
	}
}

func TestFaultProxyInjects(t *testing.T) {
	const path = "/api/v1/namespaces/default/configmaps"
	for _, tc := range []struct {
		name       string
		rule       Rule
		requests   int
		wantStatus []int
		wantRetry  string
	}{
		{"500 once", Rule{Times: 1, Fault: Fault{Status: 500}}, 2, []int{500, 200}, ""},
		{"503", Rule{Times: 1, Fault: Fault{Status: 503}}, 1, []int{503}, ""},
		{"429 with Retry-After", Rule{Fault: Fault{Status: 429, RetryAfter: 2 * time.Second}}, 1, []int{429}, "2"},
		{"409", Rule{Verbs: []string{VerbList}, Fault: Fault{Status: 409}}, 1, []int{409}, ""},
		{"other verbs pass", Rule{Verbs: WriteVerbs, Fault: Fault{Status: 500}}, 1, []int{200}, ""},
		{"every third", Rule{Every: 3, Fault: Fault{Status: 500}}, 6, []int{200, 200, 500, 200, 200, 500}, ""},
		{"latency only", Rule{Times: 1, Fault: Fault{Latency: time.Millisecond}}, 1, []int{200}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t)
			p.Inject(tc.rule)
			var got []int
			var retry string
			for range tc.requests {
				resp, err := get(t, p, path)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, resp.StatusCode)
				if resp.StatusCode == 429 {
					retry = resp.Header.Get("Retry-After")
				}
			}
			if d := cmp.Diff(tc.wantStatus, got); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if retry != tc.wantRetry {
				t.Errorf("Retry-After = %q, want %q", retry, tc.wantRetry)
			}
			if p.Count(VerbList) != tc.requests {
				t.Errorf("counted %d lists, want %d", p.Count(VerbList), tc.requests)
			}
		})
	}
}

func TestFaultProxyDropsAndGoesDown(t *testing.T) {
	p := newProxy(t)
	p.Inject(Rule{Times: 1, Fault: Fault{Drop: true}})
	if _, err := get(t, p, "/version"); err == nil {
		t.Error("a dropped connection answered")
	}
	if resp, err := get(t, p, "/version"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the drop: %v", err)
	}
	p.Down(time.Hour)
	if _, err := get(t, p, "/version"); err == nil {
		t.Error("a request got through while the server was down")
	}
	p.Reset()
	if resp, err := get(t, p, "/version"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after Reset: %v", err)
	}
	if p.Count() != 1 {
		t.Errorf("Count() after Reset = %d, want 1", p.Count())
	}
}

func TestRequestVerb(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/api/v1/namespaces/x/configmaps", VerbList},
		{"GET", "/api/v1/namespaces/x/configmaps?watch=true", VerbWatch},
		{"GET", "/api/v1/namespaces/x/configmaps/a", VerbGet},
		{"GET", "/api/v1/namespaces/x", VerbGet},
		{"GET", "/api/v1/namespaces", VerbList},
		{"GET", "/apis/apps/v1/namespaces/x/deployments/web/status", VerbGet},
		{"GET", "/apis/storage.k8s.io/v1/storageclasses", VerbList},
		{"GET", "/apis", VerbGet},
		{"POST", "/api/v1/namespaces/x/configmaps", VerbCreate},
		{"PUT", "/api/v1/namespaces/x/configmaps/a", VerbUpdate},
		{"PATCH", "/api/v1/namespaces/x/configmaps/a", VerbPatch},
		{"DELETE", "/api/v1/namespaces/x/configmaps/a", VerbDelete},
		{"DELETE", "/api/v1/namespaces/x/configmaps", VerbDeleteCollection},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if got := RequestVerb(r); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}
