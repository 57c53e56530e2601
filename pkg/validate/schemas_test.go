package validate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/validate"
)

// TestClusterSchemas: the Cluster's schemas name CRD files that give vet
// the schemas of a chart's CRDs (here cert-manager's real ClusterIssuer
// CRD, taken from its Go module into the test's tree); a schema source
// holding anything but CRDs is an error.
func TestClusterSchemas(t *testing.T) {
	mod, err := testenv.ModuleDir(testenv.CertManagerModule)
	if err != nil {
		t.Fatal(err)
	}
	crd, err := os.ReadFile(filepath.Join(mod, "deploy", "crds", "crd-clusterissuers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	write(t, "cluster.yaml", clusterYAML+"  schemas:\n    - schemas/clusterissuers.yaml\n    - schemas/not-a-crd.yaml\n"+
		"    - {url: https://example.com/crds.yaml, sha256: "+strings.Repeat("a", 64)+"}\n")
	write(t, "schemas/clusterissuers.yaml", string(crd))
	write(t, "schemas/not-a-crd.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	write(t, "issuer.yaml", component("issuer", "L1", `  objects:
    - apiVersion: cert-manager.io/v1
      kind: ClusterIssuer
      metadata: {name: letsencrypt}
      spec:
        acme:
          server: https://acme-v02.api.letsencrypt.org/directory
          privateKeySecretRef: {name: account-key}
          solvers:
            - dns01:
                cloudflare:
                  apiTokenSecretRef: {name: cloudflare, key: 42}
`))
	tree, diags := mustLoad(t, ".")
	if tree == nil || len(diags) > 0 {
		t.Fatalf("load: %v", diags)
	}
	res, more := render.Render(t.Context(), tree, render.Options{Lenient: true})
	var got []string
	for _, d := range append(more, validate.Check(res, validate.Options{})...) {
		got = append(got, fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Message))
	}
	want := []string{
		`cluster.yaml:12:7: warning: schema source https://example.com/crds.yaml is not fetched offline: the kinds it defines are not checked`,
		`issuer.yaml:18:57: error: ClusterIssuer letsencrypt: spec.acme.solvers[0].dns01.cloudflare.apiTokenSecretRef.key: wrong type: want a string, got the number 42`,
		`schemas/not-a-crd.yaml:1:1: error: a schema source holds only CustomResourceDefinitions (apiextensions.k8s.io/v1), not v1 ConfigMap`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
