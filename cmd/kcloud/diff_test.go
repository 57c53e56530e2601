package main

import (
	"path/filepath"
	"strings"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
)

func TestDiffHelmChartOnAClusterWithoutTheCRD(t *testing.T) {
	srv, err := testenv.StartAPIServer(testenv.WithoutCRDs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := srv.WriteKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	env := uniqueEnv("nok3s")
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"redis.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: redis
spec:
  layer: L4
  envs: [` + env + `]
  helm:
    repo: https://charts.bitnami.com/bitnami
    chart: redis
    version: 20.0.0
`,
	})
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"diff"}, exitDiffErr},
		{[]string{"apply", "--wait=false"}, exitFailed},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			code, _, stderr := kcloud(t, append(tc.args, dir, "--env", env, "--kubeconfig", kc, "--context", testContext)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			for _, want := range []string{"kind HelmChart (helm.cattle.io/v1) is not served", "is this cluster K3s"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
	// Nothing was written: apply failed before taking the lock.
	code, stdout, _ := kcloud(t, "unlock", "--kubeconfig", kc)
	if code != 0 || !strings.Contains(stdout, "not locked") {
		t.Errorf("the failed apply left a lock: %q", stdout)
	}
}

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
