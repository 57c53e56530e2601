package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadTables(t *testing.T) {
	tabs, err := LoadTables()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"L1", "L2", "L3", "L4"}, tabs.LayerIDs()); diff != "" {
		t.Errorf("layers (-want +got):\n%s", diff)
	}
	l1, _ := tabs.Layer("L1")
	if diff := cmp.Diff([]string{"kube-system", "cert-manager", "bootstrap"}, l1.Namespaces); diff != "" {
		t.Errorf("L1 namespaces (-want +got):\n%s", diff)
	}
	l3, _ := tabs.Layer("L3")
	if got := l3.EnvNamespace("staging"); got != "data-staging" {
		t.Errorf("L3 namespace = %q, want data-staging", got)
	}
	retain, ok := tabs.StorageClass(tabs.Retention.Stateful)
	if !ok || retain.ReclaimPolicy != "Retain" || retain.VolumeBindingMode != "WaitForFirstConsumer" {
		t.Errorf("retained class = %+v", retain)
	}
	for _, tc := range []struct{ prefix, app, api string }{
		{"x-staging", "x-staging.example.com", "x-staging-api.example.com"},
		{"", "example.com", "api.example.com"},
	} {
		app, api, err := tabs.BusinessDomains(tc.prefix, "example.com")
		if err != nil || app != tc.app || api != tc.api {
			t.Errorf("BusinessDomains(%q) = %q, %q, %v; want %q, %q", tc.prefix, app, api, err, tc.app, tc.api)
		}
	}
	if d, err := tabs.PlatformDomain(tabs.KuberoUIService, "int.example.com"); err != nil || d != "kcloud.int.example.com" {
		t.Errorf("PlatformDomain = %q, %v", d, err)
	}
}
