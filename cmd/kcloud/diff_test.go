package main

import (
	"strings"
	"testing"
)

func TestDiffInvalidSpecsExitTwo(t *testing.T) {
	dir := writeTree(t, map[string]string{"cluster.yaml": "apiVersion: kcloud.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec: {bogus: 1}\n"})
	code, _, stderr := kcLive(t, "diff", dir)
	if code < 2 || !strings.Contains(stderr, "cluster.yaml:") {
		t.Errorf("diff of invalid specs: exit %d, want ≥2 with file:line\n%s", code, stderr)
	}
	code, _, _ = kcLive(t, "apply", dir)
	if code != exitFailed {
		t.Errorf("apply of invalid specs: exit %d, want %d", code, exitFailed)
	}
}

// TestDiffValidatesAgainstTheClustersCRDs: a custom resource whose CRD a
// chart installed (cert-manager's, real on the test server) has no schema
// offline, but diff checks it against the cluster's CRD before anything is
// sent, at the offending field.
func TestDiffValidatesAgainstTheClustersCRDs(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(),
		"issuer.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: issuer
spec:
  layer: L1
  namespace: cert-manager
  objects:
    - apiVersion: cert-manager.io/v1
      kind: ClusterIssuer
      metadata: {name: typo-issuer}
      spec:
        selfSigned: {}
        selfSignd: {}
`,
	})
	if code, stdout, _ := kcloud(t, "vet", dir); code != 0 || !strings.Contains(stdout, "ClusterIssuer") {
		t.Fatalf("vet offline: exit %d, want 0 with a warning naming ClusterIssuer\n%s", code, stdout)
	}
	code, _, stderr := kcLive(t, "diff", dir)
	if code < 2 || !strings.Contains(stderr, "issuer.yaml:14:9") || !strings.Contains(stderr, "selfSignd") {
		t.Fatalf("diff: exit %d, want ≥2 with the unknown field at issuer.yaml:14:9\n%s", code, stderr)
	}
}
