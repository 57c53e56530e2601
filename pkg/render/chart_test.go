package render

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// upstreamCharts serves the chart archives of ../shared/upstream/charts
// by name and version (an oci:// chart by its last path element).
type upstreamCharts struct{ dir string }

func (u upstreamCharts) Chart(_ context.Context, ref ChartRef) ([]byte, error) {
	return os.ReadFile(filepath.Join(u.dir, path.Base(ref.Chart)+"-"+ref.Version+".tgz"))
}

// sharedCharts returns the upstream chart archives, or skips the test
// (recorded by the test-notes mechanism) when they are not beside the
// project.
func sharedCharts(t testing.TB) upstreamCharts {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "upstream", "charts")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("left out: the upstream chart archives (%s) are not beside the project", dir)
	}
	return upstreamCharts{dir: dir}
}

func helmComponent(name, layer, helm string) string {
	return fmt.Sprintf(`apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  layer: %s
  namespace: platform
  helm:
%s`, name, layer, helm)
}

func TestRenderChart(t *testing.T) {
	charts := sharedCharts(t)
	tree := load(t, map[string]string{
		"dns.yaml": helmComponent("external-dns", "L2", `    repo: https://kubernetes-sigs.github.io/external-dns/
    chart: external-dns
    version: 1.21.1
    values:
      provider: {name: cloudflare}
`),
		"vault.yaml": helmComponent("vault", "L2", `    repo: https://helm.releases.hashicorp.com
    chart: vault
    version: 0.29.1
`),
	})
	res, diags := Render(context.Background(), tree, Options{Charts: charts})
	if diags.HasErrors() {
		t.Fatalf("render: %v", diags)
	}
	var got []string
	for _, o := range res.Objects() {
		if !o.FromChart() {
			continue
		}
		if o.Origin != tree.Component(o.Component).Helm.Pos {
			t.Errorf("%s: origin %v, want the helm entry", objectID(o), o.Origin)
		}
		got = append(got, fmt.Sprintf("%s %s %s crd=%v", o.Component, objectID(o), o.Template, o.ChartCRD))
	}
	want := []string{
		"external-dns CustomResourceDefinition.apiextensions.k8s.io dnsendpoints.externaldns.k8s.io external-dns/crds/dnsendpoints.externaldns.k8s.io.yaml crd=true",
		"external-dns ServiceAccount platform/external-dns external-dns/templates/serviceaccount.yaml crd=false",
		"vault ServiceAccount platform/vault vault/templates/server-serviceaccount.yaml crd=false",
		"vault ServiceAccount platform/vault-agent-injector vault/templates/injector-serviceaccount.yaml crd=false",
		"vault ConfigMap platform/vault-config vault/templates/server-config-configmap.yaml crd=false",
		"external-dns ClusterRole.rbac.authorization.k8s.io external-dns external-dns/templates/clusterrole.yaml crd=false",
		"vault ClusterRole.rbac.authorization.k8s.io vault-agent-injector-clusterrole vault/templates/injector-clusterrole.yaml crd=false",
		"external-dns ClusterRoleBinding.rbac.authorization.k8s.io external-dns-viewer external-dns/templates/clusterrolebinding.yaml crd=false",
		"vault ClusterRoleBinding.rbac.authorization.k8s.io vault-agent-injector-binding vault/templates/injector-clusterrolebinding.yaml crd=false",
		"vault ClusterRoleBinding.rbac.authorization.k8s.io vault-server-binding vault/templates/server-clusterrolebinding.yaml crd=false",
		"external-dns Service platform/external-dns external-dns/templates/service.yaml crd=false",
		"vault Service platform/vault vault/templates/server-service.yaml crd=false",
		"vault Service platform/vault-agent-injector-svc vault/templates/injector-service.yaml crd=false",
		"vault Service platform/vault-internal vault/templates/server-headless-service.yaml crd=false",
		"external-dns Deployment.apps platform/external-dns external-dns/templates/deployment.yaml crd=false",
		"vault Deployment.apps platform/vault-agent-injector vault/templates/injector-deployment.yaml crd=false",
		"vault StatefulSet.apps platform/vault vault/templates/server-statefulset.yaml crd=false",
		"vault MutatingWebhookConfiguration.admissionregistration.k8s.io vault-agent-injector-cfg vault/templates/injector-mutating-webhook.yaml crd=false",
	}
	// vault's test Pod (a helm.sh/hook: test) is not among them.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chart objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{}, res.Partial); diff != "" {
		t.Errorf("partial (-want +got):\n%s", diff)
	}
}

// TestChartValuesChecks: values are checked against the chart's
// values.schema.json (errors) and against the keys the chart reads
// (warnings naming the nearest key; errors when strict), at each key's
// line; maps the chart passes through whole are not looked into.
func TestChartValuesChecks(t *testing.T) {
	ref := ChartRef{Repo: "https://charts.example.com", Chart: "app", Version: "1.0.0"}
	charts := testCharts{ref: buildChart(t, "app", "1.0.0", map[string]string{
		"values.yaml":        "replicas: 1\npodAnnotations: {}\nimage: {repository: nginx, tag: \"1.27\"}\n",
		"values.schema.json": `{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 1}}}`,
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: app}
data:
  replicas: {{ .Values.replicas | quote }}
  image: {{ .Values.image.repository }}:{{ .Values.image.tag }}
  {{- with .Values.extra }}
  extra: {{ .mode | quote }}
  {{- end }}
`,
	})}
	for _, tc := range []struct {
		name   string
		values string
		strict bool
		want   []string
	}{
		{name: "known keys and pass-through maps", values: "{replicas: 2, podAnnotations: {a.b/c: d}, extra: {mode: x}}"},
		{name: "schema", values: "{replicas: 0}", want: []string{
			"error: values replicas: minimum: got 0, want 1 (values.schema.json of chart app 1.0.0)"}},
		{name: "misspelt key", values: "{image: {repositry: x}}", want: []string{
			"warning: values key image.repositry: chart app 1.0.0 reads no such key (not in its values.yaml, its subcharts' or its templates); the nearest is image.repository"}},
		{name: "strict", values: "{replicaz: 2}", strict: true, want: []string{
			"error: values key replicaz: chart app 1.0.0 reads no such key (not in its values.yaml, its subcharts' or its templates); the nearest is replicas"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := load(t, map[string]string{"app.yaml": helmComponent("app", "L2", `    repo: https://charts.example.com
    chart: app
    version: 1.0.0
    values: `+tc.values+"\n")})
			_, diags := Render(context.Background(), tree, Options{Charts: charts, Strict: tc.strict})
			var got []string
			for _, d := range diags {
				if d.Pos.Line != 11 {
					t.Errorf("%v: not at the values' line 11", d)
				}
				got = append(got, fmt.Sprintf("%s: %s", d.Severity, d.Message))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}
