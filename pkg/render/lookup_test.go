package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/internal/sopstest"
	"kcloud.dev/kcloud/pkg/secret"
	"kcloud.dev/kcloud/pkg/spec"
)

// probeChart looks up a Secret of the plan (from a sops file, stringData
// and data), a ConfigMap of a later layer, one nobody renders, and every
// Secret of its namespace, and writes what it read into a ConfigMap.
func probeChart(t *testing.T) testCharts {
	return testCharts{{Repo: "https://charts.example.com", Chart: "probe", Version: "1.0.0"}: buildChart(t, "probe", "1.0.0", map[string]string{
		"templates/probe.yaml": `{{- $s := lookup "v1" "Secret" .Release.Namespace "zz-creds" }}
{{- $late := lookup "v1" "ConfigMap" "data-staging" "late" }}
{{- $absent := lookup "v1" "ConfigMap" .Release.Namespace "absent" }}
{{- $all := lookup "v1" "Secret" .Release.Namespace "" }}
apiVersion: v1
kind: ConfigMap
metadata: {name: probe}
data:
  password: {{ dig "data" "password" "" $s | b64dec | quote }}
  port: {{ dig "data" "port" "" $s | quote }}
  late: {{ dig "data" "k" "" $late | quote }}
  absent: {{ dig "data" "k" "" $absent | quote }}
  secrets: {{ len $all.items | quote }}
`,
	})}
}

func lookupTree(t *testing.T) *spec.Tree {
	t.Helper()
	key := sopstest.MustKey(t)
	t.Setenv("SOPS_AGE_KEY", key.Identity)
	enc, err := sopstest.Encrypt([]byte(strings.ReplaceAll(sopsSecret, "db-auth", "zz-creds")), sopstest.KubernetesRegex, key.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"cluster.yaml": cluster,
		"probe.yaml": helmComponent("probe", "L2", `    repo: https://charts.example.com
    chart: probe
    version: "1.0.0"
`),
		// zz comes after the chart's component in the tree; late is in a
		// later layer.
		"zz.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: zz}
spec:
  layer: L2
  namespace: platform
  manifests: [zz-creds.yaml]
`,
		"zz-creds.yaml": string(enc),
		"late.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: late}
spec:
  layer: L3
  objects:
    - {apiVersion: v1, kind: ConfigMap, metadata: {name: late}, data: {k: from-the-plan}}
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	return tree
}

// TestChartLookupReadsThePlan: a chart's lookup is answered as the cluster
// will be once the plan is applied — from every other object of the plan
// (whatever its component, layer or order; a Secret's stringData served as
// data) — and, for what the plan does not hold, from the live cluster when
// one is connected; offline it reads nothing, and the warning names what
// was looked up.
func TestChartLookupReadsThePlan(t *testing.T) {
	tree := lookupTree(t)
	probe := func(t *testing.T, opts Options) (map[string]any, spec.Diagnostics) {
		t.Helper()
		opts.Charts, opts.Decrypt = probeChart(t), secret.Decrypt
		res, diags := Render(context.Background(), tree, opts)
		if diags.HasErrors() {
			t.Fatalf("render: %v", diags)
		}
		cm := find(res, "ConfigMap", "probe")
		if cm == nil {
			t.Fatal("the chart rendered no probe")
		}
		return cm.Object["data"].(map[string]any), diags
	}

	t.Run("offline", func(t *testing.T) {
		got, diags := probe(t, Options{})
		want := map[string]any{"password": "s3cr3t-Pa55", "port": "NTQzMg==", "late": "from-the-plan", "absent": "", "secrets": "1"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("what the chart read (-want +got):\n%s", diff)
		}
		var warned []string
		for _, d := range diags {
			if strings.Contains(d.Message, "looks up") {
				warned = append(warned, d.Message)
			}
		}
		if len(warned) != 1 || !strings.Contains(warned[0], "ConfigMap platform/absent") || strings.Contains(warned[0], "zz-creds") ||
			!strings.Contains(warned[0], "probe/templates/probe.yaml") {
			t.Errorf("want one warning naming the template and ConfigMap platform/absent alone, got %q", warned)
		}
	})

	t.Run("connected", func(t *testing.T) {
		var asked []string
		live := func(_ context.Context, apiVersion, kind, namespace, name string) (map[string]any, error) {
			asked = append(asked, strings.Join([]string{apiVersion, kind, namespace, name}, " "))
			if name == "" {
				return map[string]any{"items": []any{
					// The plan's object stands for its live one.
					map[string]any{"metadata": map[string]any{"name": "zz-creds", "namespace": "platform"}},
					map[string]any{"metadata": map[string]any{"name": "made-by-hand", "namespace": "platform"}},
				}}, nil
			}
			return map[string]any{"data": map[string]any{"k": "from-the-cluster"}}, nil
		}
		got, diags := probe(t, Options{Lookup: live})
		if got["absent"] != "from-the-cluster" || got["late"] != "from-the-plan" || got["secrets"] != "2" {
			t.Errorf("what the chart read: %v", got)
		}
		// The cluster is asked only for what the plan does not hold (a
		// list always: the cluster may hold more than the plan).
		if diff := cmp.Diff([]string{"v1 ConfigMap platform absent", "v1 Secret platform "}, asked); diff != "" {
			t.Errorf("live lookups (-want +got):\n%s", diff)
		}
		for _, d := range diags {
			if strings.Contains(d.Message, "looks up") {
				t.Errorf("a warning though the cluster answered: %s", d.Message)
			}
		}
	})
}
