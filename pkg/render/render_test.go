package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/spec"
)

const cluster = `apiVersion: kcloud.dev/v1alpha1
kind: Cluster
metadata: {name: test}
spec:
  k3s: {channel: stable}
  nodes: [{name: a, host: 192.0.2.1}]
  domains: {internal: int.example.com, base: example.com}
  environments:
    - {name: staging, prefix: x-staging}
    - {name: prod, prefix: ""}
`

func load(t *testing.T, files map[string]string) *spec.Tree {
	t.Helper()
	dir := t.TempDir()
	files["cluster.yaml"] = cluster
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	return tree
}

func ids(r *Result) []string {
	var out []string
	for _, s := range r.Stacks {
		for _, o := range s.Objects {
			out = append(out, s.Name+" "+objectID(o))
		}
	}
	return out
}

func TestRenderStacksAndSelection(t *testing.T) {
	tree := load(t, map[string]string{"c.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: db}
spec:
  layer: L3
  envs: [prod]
  storage: [{name: data, size: 1Gi}]
  helm: {repo: "https://charts.example.com", chart: pg, version: "1.0.0", values: {host: "${domains.internal}", env: "${env}"}}
---
apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: ops}
spec:
  layer: L1
  namespace: bootstrap
  objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: ops}}]
`})
	// No component is in L2: its namespaces are not rendered (the stack
	// is, empty). Every environment's namespaces are.
	all := []string{
		"l1 Namespace bootstrap", "l1 Namespace cert-manager", "l1 StorageClass.storage.k8s.io local-path-retain", "l1 ConfigMap bootstrap/ops",
		"l3-staging Namespace data-staging",
		"l3-prod Namespace data-prod", "l3-prod ConfigMap data-prod/db", "l3-prod PersistentVolumeClaim data-prod/db-data",
		"l4-staging Namespace apps-staging",
		"l4-prod Namespace apps-prod",
	}
	for _, tc := range []struct {
		name       string
		layer, env string
		want       []string
	}{
		{"all", "", "", all},
		{"layer", "L3", "", all[4:8]},
		{"env", "", "prod", []string{all[5], all[6], all[7], all[9]}},
		{"layer and env", "L3", "prod", all[5:8]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, diags := Render(context.Background(), tree, Options{Layer: tc.layer, Env: tc.env, Charts: pgChart(t)})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if diff := cmp.Diff(tc.want, ids(res)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
	res, _ := Render(context.Background(), tree, Options{Layer: "L3", Env: "prod", Charts: pgChart(t)})
	cm := res.Stacks[0].Objects[1]
	if diff := cmp.Diff(map[string]any{"env": "prod", "host": "int.example.com", "password": ""}, cm.Object["data"]); diff != "" {
		t.Errorf("the chart's ConfigMap, rendered from substituted values (-want +got):\n%s", diff)
	}
	for _, bad := range []Options{{Layer: "L9"}, {Env: "qa"}, {Layer: "L1", Env: "prod"}} {
		if _, diags := Render(context.Background(), tree, bad); !diags.HasErrors() {
			t.Errorf("Render(%+v) accepted a bad selection", bad)
		}
	}
}

func TestRenderLabelsDependsOnAndNamespaceMerge(t *testing.T) {
	tree := load(t, map[string]string{"c.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: crds}
spec:
  layer: L2
  namespace: platform
  objects:
    - apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata: {name: widgets.example.com}
      spec:
        group: example.com
        scope: Cluster
        names: {kind: Widget, plural: widgets}
    - apiVersion: v1
      kind: Namespace
      metadata: {name: platform, labels: {team: infra, kcloud.dev/layer: L9}}
---
apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: widgets}
spec:
  layer: L2
  namespace: platform
  dependsOn: [crds]
  objects:
    - {apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}
    - {apiVersion: example.com/v1, kind: Gadget, metadata: {name: g}}
`})
	res, diags := Render(context.Background(), tree, Options{Layer: "L2"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	byID := map[string]Object{}
	for _, o := range res.Objects() {
		byID[objectID(o)] = o
		if o.GetLabels()["app.kubernetes.io/managed-by"] != "kcloud" || o.GetLabels()["kcloud.dev/component"] == "" {
			t.Errorf("%s lacks kcloud's labels: %v", objectID(o), o.GetLabels())
		}
	}
	ns := byID["Namespace platform"]
	if diff := cmp.Diff(map[string]string{"app.kubernetes.io/managed-by": "kcloud", "kcloud.dev/component": "kcloud", "kcloud.dev/layer": "L2", "team": "infra"}, ns.GetLabels()); diff != "" {
		t.Errorf("merged namespace labels (-want +got):\n%s", diff)
	}
	if got := ns.GetAnnotations()["client.lifecycle.config.k8s.io/deletion"]; got != "detach" {
		t.Errorf("namespaces are detached on prune, annotation = %q", got)
	}
	if w := byID["Widget.example.com w"]; w.Unstructured == nil {
		t.Errorf("a kind of a cluster-scoped CRD in the plan gets no namespace; have %v", keys(byID))
	} else if got := w.GetAnnotations()["config.kubernetes.io/depends-on"]; got != "apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com" {
		t.Errorf("depends-on = %q", got)
	}
	if _, ok := byID["Gadget.example.com platform/g"]; !ok {
		t.Errorf("an unknown kind is namespaced; have %v", keys(byID))
	}
	first := res.Stacks[0].Objects[0]
	if first.GetKind() != "Namespace" || res.Stacks[0].Objects[3].GetKind() != "CustomResourceDefinition" {
		t.Errorf("namespaces, then CRDs come first: %v", ids(res))
	}
}

func keys(m map[string]Object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRenderURLManifests(t *testing.T) {
	// A published manifest that happens to hold ${…}: it is used as
	// published, never substituted (not even a variable that is set).
	body := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: remote}\ndata: {ns: \"${namespace}\", token: \"${CI_TOKEN}\", lit: \"$${x}\"}\n"
	sum := sha256.Sum256([]byte(body))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, body)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name, sha, want string
	}{
		{"pinned", hex.EncodeToString(sum[:]), ""},
		{"tampered", strings.Repeat("0", 64), "sha256 mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := load(t, map[string]string{"c.yaml": fmt.Sprintf(`apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: remote}
spec:
  layer: L1
  namespace: bootstrap
  manifests: [{url: "%s/op.yaml", sha256: "%s"}]
`, srv.URL, tc.sha)})
			getenv := func(n string) (string, bool) { return "s3cr3t", n == "CI_TOKEN" }
			res, diags := Render(context.Background(), tree, Options{Layer: "L1", Getenv: getenv, Fetcher: &HTTPFetcher{Client: srv.Client()}})
			if tc.want != "" {
				if !strings.Contains(fmt.Sprint(diags), tc.want) || res != nil {
					t.Fatalf("diags = %v, want %q and no result", diags, tc.want)
				}
				if diags[0].Pos.Line != 7 {
					t.Errorf("error not at the manifest entry: %+v", diags[0])
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var found bool
			for _, o := range res.Objects() {
				if o.GetName() != "remote" || o.GetNamespace() != "bootstrap" {
					continue
				}
				found = true
				want := map[string]any{"ns": "${namespace}", "token": "${CI_TOKEN}", "lit": "$${x}"}
				if diff := cmp.Diff(want, o.Object["data"]); diff != "" {
					t.Errorf("fetched manifest was changed (-want +got):\n%s", diff)
				}
			}
			if !found {
				t.Errorf("remote ConfigMap not rendered: %v", ids(res))
			}
			// Offline (vet): URL manifests are left out, nothing fails.
			if _, diags := Render(context.Background(), tree, Options{}); diags.HasErrors() {
				t.Errorf("offline render: %v", diags)
			}
		})
	}
	if _, err := (&HTTPFetcher{}).Fetch(context.Background(), "http://example.com/x.yaml", ""); err == nil {
		t.Error("plain http fetched")
	}
}

func TestRenderMissingVar(t *testing.T) {
	tree := load(t, map[string]string{"c.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: app}
spec:
  layer: L4
  objects:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: app}
      data: {token: "${APP_TOKEN}"}
`})
	_, diags := Render(context.Background(), tree, Options{})
	if !diags.HasErrors() || !strings.Contains(diags[0].Message, "${APP_TOKEN} is not set") || diags[0].Pos.Line != 10 {
		t.Fatalf("diags = %v, want ${APP_TOKEN} not set at line 10", diags)
	}
	res, diags := Render(context.Background(), tree, Options{Getenv: func(n string) (string, bool) { return "s3cr3t", n == "APP_TOKEN" }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, o := range res.Objects() {
		if o.GetName() == "app" && o.Object["data"].(map[string]any)["token"] != "s3cr3t" {
			t.Errorf("token not substituted: %v", o.Object["data"])
		}
	}
}

// TestSharedNamespacesNeedAComponent: the namespaces of L1 and L2 are
// rendered only when a component is in the layer; the retained
// StorageClass and the environments' namespaces always are.
func TestSharedNamespacesNeedAComponent(t *testing.T) {
	tree := load(t, map[string]string{"app.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: app}
spec:
  layer: L4
  envs: [prod]
  objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: app}}]
`})
	res, diags := Render(context.Background(), tree, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := []string{
		"l1 StorageClass.storage.k8s.io local-path-retain",
		"l3-staging Namespace data-staging", "l3-prod Namespace data-prod",
		"l4-staging Namespace apps-staging", "l4-prod Namespace apps-prod", "l4-prod ConfigMap apps-prod/app",
	}
	if d := cmp.Diff(want, ids(res)); d != "" {
		t.Errorf("objects (-want +got):\n%s", d)
	}
}
