package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/cache"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// nestedArchive returns the file name of the archive at path in the
// gzipped tar body (a chart's vendored dependency).
func nestedArchive(t testing.TB, body []byte, name string) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("no %s in the archive", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// chartTree writes a spec tree of one L4 chart component in env, with a
// lock pinning archives (by version) and a cache holding them.
func chartTree(t *testing.T, env, chart, version, values string, archives map[string][]byte) string {
	t.Helper()
	dir := writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(env),
		"app.yaml":     chartComponent(env, chart, version, values),
	})
	c := cache.Dir{Path: t.TempDir()}
	t.Setenv(cache.EnvDir, c.Path)
	lock, err := cache.ReadLock(filepath.Join(dir, cache.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	charts := &cache.Charts{Dir: c, Lock: lock}
	for v, body := range archives {
		if _, err := charts.Add(render.ChartRef{Repo: "https://charts.example.com", Chart: chart, Version: v}, body); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func chartComponent(env, chart, version, values string) string {
	return fmt.Sprintf(`apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: app
spec:
  layer: L4
  envs: [%s]
  helm:
    repo: https://charts.example.com
    chart: %s
    version: %s
    values: %s
`, env, chart, version, values)
}

// TestChartBumpDiffsAsObjects: a chart applied, then bumped between two
// real versions (Bitnami's redis 20.4.0, vendored in oauth2-proxy 7.8.1,
// and 20.6.1): the second diff of the same version exits 0, the bump's
// diff shows object changes under the component, and apply writes them
// with field manager kcloud.
func TestChartBumpDiffsAsObjects(t *testing.T) {
	oauth, err := os.ReadFile(filepath.Join(sharedCharts, "oauth2-proxy-7.8.1.tgz"))
	if err != nil {
		testenv.Note(t, "left out: the chart archives are not beside the project: "+err.Error())
		t.Skip("no chart archives")
	}
	newer, err := os.ReadFile(filepath.Join(sharedCharts, "redis-20.6.1.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	older := nestedArchive(t, oauth, "oauth2-proxy/charts/redis-20.4.0.tgz")
	env := uniqueEnv("bump")
	values := "{architecture: standalone, auth: {enabled: false}}"
	dir := chartTree(t, env, "redis", "20.4.0", values, map[string][]byte{"20.4.0": older, "20.6.1": newer})
	if code, out, errOut := kcLive(t, "apply", dir, "--env", env, "--wait=false"); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	ns := "apps-" + env
	sts, err := typed(t).AppsV1().StatefulSets(ns).Get(context.Background(), "app-redis-master", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var managers []string
	for _, m := range sts.ManagedFields {
		managers = append(managers, m.Manager)
	}
	if strings.Join(managers, ",") != "kcloud" {
		t.Errorf("the chart's StatefulSet is managed by %v, want kcloud alone", managers)
	}
	if code, out, errOut := kcLive(t, "diff", dir, "--env", env); code != exitOK {
		t.Fatalf("second diff: exit %d, want 0\n%s%s", code, out, errOut)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(chartComponent(env, "redis", "20.6.1", values)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kcLive(t, "diff", dir, "--env", env)
	if code != exitFailed {
		t.Fatalf("diff of the bump: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		fmt.Sprintf("component app (l4-%s):", env),
		fmt.Sprintf("~ update StatefulSet %s/app-redis-master", ns),
		"-    helm.sh/chart: redis-20.4.0",
		"+    helm.sh/chart: redis-20.6.1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the bump's diff lacks %q:\n%s", want, tail(out))
		}
	}
}

// TestChartComponentRemovalDetachesClaims: a PersistentVolumeClaim a real
// chart renders (Headlamp 0.45.0's templates/pvc.yaml) carries the detach
// annotation; removing the chart component deletes its other objects and
// detaches the claim: it stays, out of the inventory, and the next diff is
// empty.
func TestChartComponentRemovalDetachesClaims(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(sharedCharts, "headlamp-0.45.0.tgz"))
	if err != nil {
		testenv.Note(t, "left out: the chart archives are not beside the project: "+err.Error())
		t.Skip("no chart archives")
	}
	env := uniqueEnv("chartpvc")
	ns := "apps-" + env
	// https://github.com/kubernetes-sigs/headlamp/blob/headlamp-helm-0.45.0/charts/headlamp/values.yaml
	// (persistentVolumeClaim, clusterRoleBinding.create: an L4 component
	// renders no cluster-scoped object).
	values := "{clusterRoleBinding: {create: false}, persistentVolumeClaim: {enabled: true, accessModes: [ReadWriteOnce], size: 1Gi, storageClassName: local-path}}"
	dir := chartTree(t, env, "headlamp", "0.45.0", values, map[string][]byte{"0.45.0": body})
	// Another component stays: a tree with none left is refused as lost.
	other := fmt.Sprintf(`apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: other}
spec:
  layer: L4
  envs: [%s]
  objects:
    - {apiVersion: v1, kind: ConfigMap, metadata: {name: other}, data: {k: v}}
`, env)
	if err := os.WriteFile(filepath.Join(dir, "other.yaml"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := kcLive(t, "apply", dir, "--env", env, "--wait=false"); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	ctx := context.Background()
	pvc, err := typed(t).CoreV1().PersistentVolumeClaims(ns).Get(ctx, "app-headlamp", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tabs, err := spec.LoadTables()
	if err != nil {
		t.Fatal(err)
	}
	if d := tabs.Retention.Detach; pvc.Annotations[d.Key] != d.Value {
		t.Errorf("the chart's claim lacks %s: %s: %v", d.Key, d.Value, pvc.Annotations)
	}

	if err := os.Remove(filepath.Join(dir, "app.yaml")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kcLive(t, "diff", dir, "--env", env)
	if code != exitFailed || !strings.Contains(out, "! detach PersistentVolumeClaim "+ns+"/app-headlamp") || !strings.Contains(out, "- delete Deployment "+ns+"/app-headlamp") {
		t.Fatalf("diff of the removal: exit %d, want the claim detached and the Deployment deleted\n%s%s", code, tail(out), errOut)
	}
	// Most of the stack goes: the mass-prune guard wants it said.
	if code, out, errOut := kcLive(t, "apply", dir, "--env", env, "--wait=false", "--allow-mass-prune"); code != exitOK {
		t.Fatalf("apply of the removal: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := typed(t).CoreV1().PersistentVolumeClaims(ns).Get(ctx, "app-headlamp", metav1.GetOptions{}); err != nil {
		t.Errorf("the detached claim: %v", err)
	}
	if _, err := typed(t).AppsV1().Deployments(ns).Get(ctx, "app-headlamp", metav1.GetOptions{}); err == nil {
		t.Error("the removed chart's Deployment is still there")
	}
	if code, out, _ := kcLive(t, "diff", dir, "--env", env); code != exitOK {
		t.Errorf("diff after the detach: exit %d, want 0 (the claim out of the inventory)\n%s", code, tail(out))
	}
}
