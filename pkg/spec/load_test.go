package spec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testCluster = `apiVersion: kcloud.dev/v1alpha1
kind: Cluster
metadata: {name: test}
spec:
  k3s: {channel: stable}
  nodes:
    - {name: a, host: "${TEST_HOST}", hostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"}
    - {name: b, host: 192.0.2.2, role: agent, user: ubuntu, port: 2222}
  domains: {internal: int.example.com, base: example.com}
  environments:
    - {name: staging, prefix: x-staging}
    - {name: prod, prefix: ""}
    - {name: test}
`

// writeTree writes files (path → content) under a temp dir and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func messages(d Diagnostics) []string {
	var out []string
	for _, x := range d {
		out = append(out, x.Message)
	}
	return out
}

func TestLoadCluster(t *testing.T) {
	dir := writeTree(t, map[string]string{"cluster.yaml": testCluster})
	tree, diags, err := Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatalf("Load: %v %v", err, diags)
	}
	c := tree.Cluster
	wantNodes := []Node{
		{Name: "a", Host: "${TEST_HOST}", User: "root", Port: 22, Role: "server", HostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"},
		{Name: "b", Host: "192.0.2.2", User: "ubuntu", Port: 2222, Role: "agent"},
	}
	for i := range c.Nodes {
		c.Nodes[i].Pos, c.Nodes[i].HostPos = Pos{}, Pos{}
	}
	if diff := cmp.Diff(wantNodes, c.Nodes); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	wantEnvs := []string{"staging x-staging x-staging.example.com x-staging-api.example.com",
		"prod  example.com api.example.com", "test test test.example.com test-api.example.com"}
	var gotEnvs []string
	for _, e := range c.Environments {
		gotEnvs = append(gotEnvs, strings.Join([]string{e.Name, e.Prefix, e.App, e.API}, " "))
	}
	if diff := cmp.Diff(wantEnvs, gotEnvs); diff != "" {
		t.Errorf("environments (-want +got):\n%s", diff)
	}
	if c.StoragePath != "/var/lib/rancher/k3s/storage" {
		t.Errorf("default storage path = %q", c.StoragePath)
	}
	if c.K3s.SnapshotRetain != 5 {
		t.Errorf("default snapshot retention = %d, want 5", c.K3s.SnapshotRetain)
	}
	if len(tree.Vars) != 1 || tree.Vars[0].Name != "TEST_HOST" || tree.Vars[0].Pos.Line != 7 {
		t.Errorf("vars = %+v, want TEST_HOST on line 7", tree.Vars)
	}
	missing := tree.MissingVars(func(string) (string, bool) { return "", false }, SeverityError, false)
	if len(missing) != 1 || !strings.Contains(missing[0].Message, "${TEST_HOST} is not set") {
		t.Errorf("MissingVars = %v", missing)
	}
}

func TestLoadComponentDefaults(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"cluster.yaml": testCluster,
		"c.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: db}
spec:
  layer: L3
  envs: [prod, staging]
  storage: [{name: data, size: 1Gi}]
  objects:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: x}
      data: {n: "1"}
      spec: {replicas: 3, ratio: 0.5}
---
apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: web}
spec:
  layer: L4
  storage: [{name: cache, size: 1Gi}]
  objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: y}}]
`,
	})
	tree, diags, err := Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatalf("Load: %v %v", err, diags)
	}
	db, web := tree.Component("db"), tree.Component("web")
	if !db.Stateful || web.Stateful {
		t.Errorf("stateful defaults: db %v (want true, L3), web %v (want false)", db.Stateful, web.Stateful)
	}
	if db.Storage[0].StorageClass != "local-path-retain" || web.Storage[0].StorageClass != "local-path" {
		t.Errorf("storage class defaults: db %q web %q", db.Storage[0].StorageClass, web.Storage[0].StorageClass)
	}
	if diff := cmp.Diff([]string{"staging", "prod"}, db.Envs); diff != "" {
		t.Errorf("envs keep the Cluster's order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"staging", "prod", "test"}, web.Envs); diff != "" {
		t.Errorf("envs default to all (-want +got):\n%s", diff)
	}
	spec := db.Objects[0].Object["spec"].(map[string]any)
	if _, ok := spec["replicas"].(int64); !ok {
		t.Errorf("integers decode as int64, got %T", spec["replicas"])
	}
	if _, ok := spec["ratio"].(float64); !ok {
		t.Errorf("floats decode as float64, got %T", spec["ratio"])
	}
}

func TestHostileInput(t *testing.T) {
	bomb := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	for i, c := range "bcdefghi" {
		prev := string("abcdefghi"[i])
		bomb += string(c) + ": &" + string(c) + " [" + strings.Repeat("*"+prev+",", 8) + "*" + prev + "]\n"
	}
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"alias bomb", bomb, "more than 50000 YAML nodes (aliases counted expanded)"},
		{"deep flow nesting", "a: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n", "nests deeper than 100 levels"},
		{"deep block nesting", deepBlock(150), "nests deeper than 100 levels"},
		{"too large", "a: \"" + strings.Repeat("x", MaxFileSize) + "\"\n", "larger than 3 MiB"},
		{"not a mapping", "- a\n- b\n", "a document must be a mapping"},
		{"alias of a large scalar, many times", "a: &a \"" + strings.Repeat("x", 1<<20) + "\"\nb: [" + strings.Repeat("*a,", 2999) + "*a]\n", "more than 16 MiB of values"},
		{"long flow list", "a: [" + strings.Repeat("a,", 200_000) + "a]\n", "more than 100000 lines and commas"},
		{"list over the element cap", "a: [" + strings.Repeat("a,", MaxElements) + "a]\n", "list has 1001 items"},
		{"mapping over the element cap", "a: {" + manyKeys(MaxElements+1) + "}\n", "mapping has 1001 keys"},
		{"many nodes", manyLists(60), "more than 50000 YAML nodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"cluster.yaml": testCluster, "bad.yaml": tc.content})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, diags, err := Load(context.Background(), []string{dir})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(messages(diags), "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics = %q, want %q", got, tc.want)
			}
			for _, d := range diags {
				if filepath.Base(d.Pos.File) != "bad.yaml" || d.Pos.Line == 0 {
					t.Errorf("diagnostic not positioned in bad.yaml: %+v", d)
				}
			}
			// Bounded memory: rejecting hostile input allocates far less
			// than the 100 MB budget.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 100<<20 {
				t.Errorf("allocated %d MiB rejecting %s", alloc>>20, tc.name)
			}
		})
	}
}

func manyKeys(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d: v", i)
	}
	return strings.Join(keys, ", ")
}

func manyLists(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "l%d: [%sa]\n", i, strings.Repeat("a,", 999))
	}
	return b.String()
}

// Loading stops when its context is cancelled (SIGTERM, Ctrl-C).
func TestLoadStopsWhenCancelled(t *testing.T) {
	dir := writeTree(t, map[string]string{"cluster.yaml": testCluster})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Load(ctx, []string{dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context: %v, want context.Canceled", err)
	}
}

func deepBlock(depth int) string {
	var b strings.Builder
	for i := 0; i < depth; i++ {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", depth) + "v: 1\n")
	return b.String()
}

func TestExpand(t *testing.T) {
	lookup := func(name string) (string, bool) {
		v, ok := map[string]string{"env": "prod", "HOST": "1.2.3.4"}[name]
		return v, ok
	}
	for _, tc := range []struct {
		in, want string
		missing  []string
	}{
		{"plain", "plain", nil},
		{"${env}-${HOST}", "prod-1.2.3.4", nil},
		{"$${env} stays", "${env} stays", nil},
		{"echo $${HOME} ${NOPE}", "echo ${HOME} ${NOPE}", []string{"NOPE"}},
		{"cost: $5 ${env", "cost: $5 ${env", nil},
	} {
		got, missing := Expand(tc.in, lookup)
		if got != tc.want || !cmp.Equal(missing, tc.missing) {
			t.Errorf("Expand(%q) = %q, %v; want %q, %v", tc.in, got, missing, tc.want, tc.missing)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	if _, _, err := Load(context.Background(), []string{filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing directory is an I/O error (exit 2), got nil")
	}
	dir := writeTree(t, map[string]string{"notes.txt": "not yaml", ".git/x.yaml": "broken: ["})
	_, diags, err := Load(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"no Cluster document found; a spec tree has exactly one kind: Cluster"}, messages(diags)); diff != "" {
		t.Errorf("hidden dirs and non-YAML files are skipped (-want +got):\n%s", diff)
	}
}
