package testenv_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"kcloud.dev/kcloud/internal/testenv"
)

// TestChartRepo: the repository's index, fetched over HTTPS, lists every
// upstream archive and a chart the test adds, each with the sha256 of the
// archive it serves at its URL; the archives load as charts.
func TestChartRepo(t *testing.T) {
	r := testenv.NewChartRepo(t)
	r.AddChart(t, map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: hooked\nversion: 0.1.0\n",
		"templates/a.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		"crds/widgets.yaml":     "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.org}\n",
		"values.yaml":           "replicas: 1\n",
		"templates/NOTES.txt":   "hello\n",
		"templates/_helper.tpl": "{{- define \"x\" }}x{{ end }}\n",
	})
	body := get(t, r, r.URL()+"/index.yaml")
	idxFile := filepath.Join(t.TempDir(), "index.yaml")
	if err := os.WriteFile(idxFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	idx, err := repo.LoadIndexFile(idxFile)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"hooked": "0.1.0"}
	archives, _ := filepath.Glob(filepath.Join(testenv.UpstreamCharts(), "*.tgz"))
	for _, a := range archives {
		c, err := loader.Load(a)
		if err != nil {
			t.Fatal(err)
		}
		want[c.Name()] = c.Metadata.Version
	}
	got := map[string]string{}
	for name, versions := range idx.Entries {
		for _, v := range versions {
			got[name] = v.Version
			data := get(t, r, v.URLs[0])
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != v.Digest {
				t.Errorf("%s %s: the index says digest %s, the archive served has %x", name, v.Version, v.Digest, sum)
			}
			if _, err := loader.LoadArchive(bytes.NewReader(data)); err != nil {
				t.Errorf("%s %s: %v", name, v.Version, err)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("charts in the index (-want +got):\n%s", diff)
	}
}

func get(t *testing.T, r *testenv.ChartRepo, url string) []byte {
	t.Helper()
	resp, err := r.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
