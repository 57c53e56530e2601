package kube_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/spec"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

func TestNewFromKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := testenv.Shared(t).WriteKubeconfig(path); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		opts    kube.Options
		env     string
		wantErr string
	}{
		{name: "--kubeconfig", opts: kube.Options{Kubeconfig: path}},
		{name: "KUBECONFIG", env: path},
		{name: "unknown --context", opts: kube.Options{Kubeconfig: path, Context: "nope"}, wantErr: `context "nope" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			c, err := kube.New(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Config.QPS != kube.DefaultQPS || c.Config.Burst != kube.DefaultBurst {
				t.Errorf("QPS/burst = %v/%d, want raised", c.Config.QPS, c.Config.Burst)
			}
			m, err := c.Mapping(schema.GroupVersionKind{Group: "helm.cattle.io", Version: "v1", Kind: "HelmChart"})
			if err != nil || m.Resource.Resource != "helmcharts" {
				t.Errorf("HelmChart mapping = %v, %v", m, err)
			}
		})
	}
}

func TestUnservedKindSaysWhy(t *testing.T) {
	tabs, err := spec.LoadTables()
	if err != nil {
		t.Fatal(err)
	}
	c, err := kube.NewForConfig(testenv.Shared(t).Config(), kube.Options{Hint: tabs.Hint})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		gvk  schema.GroupVersionKind
		want string
	}{
		{schema.GroupVersionKind{Group: "helm.cattle.io", Version: "v9", Kind: "HelmChart"}, "is this cluster K3s"},
		{schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Thing"}, "install its CRD first"},
	} {
		_, err := c.Mapping(tc.gvk)
		if !kube.IsUnserved(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.gvk.Kind) {
			t.Errorf("Mapping(%v) = %v, want an unserved error with %q", tc.gvk, err, tc.want)
		}
	}
}
