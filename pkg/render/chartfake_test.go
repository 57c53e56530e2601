package render

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
)

// testCharts serves archives written by the test, by ref.
type testCharts map[ChartRef][]byte

func (c testCharts) Chart(_ context.Context, ref ChartRef) ([]byte, error) {
	if b, ok := c[ref]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no chart %s", ref)
}

// chartArchive builds a chart archive (a .tgz with the chart under
// name/) from files; Chart.yaml is written from name and version unless
// files hold one.
func buildChart(t testing.TB, name, version string, files map[string]string) []byte {
	t.Helper()
	files = maps.Clone(files)
	if _, ok := files["Chart.yaml"]; !ok {
		files["Chart.yaml"] = fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range slices.Sorted(maps.Keys(files)) {
		body := []byte(files[f])
		if err := tw.WriteHeader(&tar.Header{Name: name + "/" + f, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pgChart is a small chart: one ConfigMap of its values.
func pgChart(t testing.TB) testCharts {
	return testCharts{{Repo: "https://charts.example.com", Chart: "pg", Version: "1.0.0"}: buildChart(t, "pg", "1.0.0", map[string]string{
		"values.yaml": "host: \"\"\nenv: \"\"\nauth: {password: \"\"}\n",
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: {{ .Release.Name }}}
data:
  host: {{ .Values.host | quote }}
  env: {{ .Values.env | quote }}
  password: {{ .Values.auth.password | quote }}
`,
	})}
}
