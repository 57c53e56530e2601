package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

func TestSharedServesK3sKindsAndK3sServiceRange(t *testing.T) {
	srv := Shared(t)
	dc, err := discovery.NewDiscoveryClientForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		groupVersion string
		kinds        []string
	}{
		{"helm.cattle.io/v1", []string{"HelmChart", "HelmChartConfig"}},
		{"cert-manager.io/v1", []string{"Certificate", "CertificateRequest", "ClusterIssuer", "Issuer"}},
		{"acme.cert-manager.io/v1", []string{"Challenge", "Order"}},
	} {
		t.Run(tc.groupVersion, func(t *testing.T) {
			list, err := dc.ServerResourcesForGroupVersion(tc.groupVersion)
			if err != nil {
				t.Fatalf("%s not served: %v", tc.groupVersion, err)
			}
			var got []string
			for _, r := range list.APIResources {
				if r.Kind != "" && !slices.Contains(got, r.Kind) {
					got = append(got, r.Kind)
				}
			}
			if diff := cmp.Diff(tc.kinds, slices.Sorted(slices.Values(got))); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
		})
	}

	// A ClusterIP from K3s's range, outside envtest's default /24.
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	svc, err := cs.CoreV1().Services("default").Create(t.Context(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "cidr"},
		Spec: corev1.ServiceSpec{
			ClusterIP: "10.43.200.7",
			Ports:     []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("service in %s: %v", ServiceCIDR, err)
	}
	if svc.Spec.ClusterIP != "10.43.200.7" {
		t.Errorf("ClusterIP = %s", svc.Spec.ClusterIP)
	}

	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := srv.WriteKubeconfig(path); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().Get(t.Context(), "kube-system", metav1.GetOptions{}); err != nil {
		t.Errorf("kubeconfig does not reach the server: %v", err)
	}
}

func TestWithoutCRDsServesNoHelmChart(t *testing.T) {
	srv, err := StartAPIServer(WithoutCRDs())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	}()
	dc := discovery.NewDiscoveryClientForConfigOrDie(srv.Config())
	if _, err := dc.ServerResourcesForGroupVersion("helm.cattle.io/v1"); err == nil {
		t.Fatal("helm.cattle.io/v1 is served by a server started WithoutCRDs")
	}
}

// TestSharedCRDsAreReal: the K3s and cert-manager CRDs are the real ones,
// with their schemas, not stand-ins that take any field.
func TestSharedCRDsAreReal(t *testing.T) {
	dyn := dynamic.NewForConfigOrDie(Shared(t).Config())
	for _, tc := range []struct {
		resource schema.GroupVersionResource
		obj      string
	}{
		{schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"},
			`{"apiVersion":"helm.cattle.io/v1","kind":"HelmChart","metadata":{"name":"strict"},"spec":{"chart":"x","bogus":1}}`},
		{schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "issuers"},
			`{"apiVersion":"cert-manager.io/v1","kind":"Issuer","metadata":{"name":"strict"},"spec":{"selfSigned":{},"bogus":1}}`},
	} {
		t.Run(tc.resource.Resource, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON([]byte(tc.obj)); err != nil {
				t.Fatal(err)
			}
			_, err := dyn.Resource(tc.resource).Namespace("default").Create(t.Context(), u,
				metav1.CreateOptions{FieldValidation: "Strict", DryRun: []string{metav1.DryRunAll}})
			if err == nil || !strings.Contains(err.Error(), `unknown field "spec.bogus"`) {
				t.Errorf("create with spec.bogus: %v, want an unknown-field error", err)
			}
		})
	}
}
