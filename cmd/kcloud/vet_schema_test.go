package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schemaTree is the example: a Deployment with replicas "three",
// selectr and imagee, and a ClusterIssuer whose CRD only a cluster (or the
// Cluster's schemas) knows.
const schemaComponents = `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: web}
spec:
  layer: L4
  objects:
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        replicas: "three"
        selectr: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
              - name: web
                imagee: nginx
---
apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: issuer}
spec:
  layer: L1
  namespace: kube-system
  objects:
    - apiVersion: cert-manager.io/v1
      kind: ClusterIssuer
      metadata: {name: letsencrypt}
      spec:
        acme:
          server: https://acme-v02.api.letsencrypt.org/directory
          emial: ops@example.com
`

func writeSchemaTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cluster, err := os.ReadFile(filepath.Join(moduleRoot, "testdata", "valid-minimal", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"cluster.yaml": cluster, "components.yaml": []byte(schemaComponents)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestVetChecksObjectSchemas: vet rejects the Deployment at each
// offending field, names the kind it has no schema for, and makes no API
// call, even with a KUBECONFIG in the environment.
func TestVetChecksObjectSchemas(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusForbidden)
	}))
	t.Cleanup(api.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: t}}]
current-context: c
`, api.URL), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kc)
	t.Chdir(writeSchemaTree(t))

	code, stdout, _ := kcloud(t, "vet", ".")
	want := []string{
		`components.yaml:11:9: Deployment web: spec.replicas: wrong type: want a number, got the string "three"`,
		`components.yaml:12:9: Deployment web: spec.selectr: unknown field`,
		`components.yaml:18:17: Deployment web: spec.template.spec.containers[0].imagee: unknown field`,
		`components.yaml:27:7: warning: kind ClusterIssuer (cert-manager.io/v1) has no schema: it is not built in, not K3s's, and no CRD for it is in the plan, the Cluster's schemas or the cluster; its objects are not checked`,
	}
	if diff := cmp.Diff(want, lines(stdout)); code != exitFailed || diff != "" {
		t.Errorf("exit %d, want 1; diagnostics (-want +got):\n%s", code, diff)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("vet made %d API calls, want none", n)
	}

	// --strict: a kind with no schema is an error.
	_, stdout, _ = kcloud(t, "vet", "--strict", ".")
	if !strings.Contains(stdout, "components.yaml:27:7: kind ClusterIssuer (cert-manager.io/v1) has no schema") {
		t.Errorf("--strict: no error for the kind without a schema:\n%s", stdout)
	}
}

// TestVetWithClusterSchemas: with --kubeconfig, vet reads the cluster's
// CRDs (cert-manager's, installed by its chart) and checks the
// ClusterIssuer against them.
func TestVetWithClusterSchemas(t *testing.T) {
	kc := kubeconfig(t)
	t.Chdir(writeSchemaTree(t))
	code, stdout, stderr := kcloud(t, "vet", "--kubeconfig", kc, ".")
	got := lines(stdout)
	for _, want := range []string{
		`components.yaml:33:11: ClusterIssuer letsencrypt: spec.acme.emial: unknown field`,
		`components.yaml:31:9: ClusterIssuer letsencrypt: spec.acme.privateKeySecretRef: missing required field`,
	} {
		if !strings.Contains(stdout, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, stdout)
		}
	}
	if code != exitFailed || len(got) != 5 || strings.Contains(stdout, "has no schema") {
		t.Errorf("exit %d, want 1 and five errors:\n%s%s", code, stdout, stderr)
	}
}

func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
