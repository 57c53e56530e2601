package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kcloud.dev/kcloud/pkg/cache"
)

// manifestsTree writes a spec tree with one component pinning two URL
// manifests (on a port nothing listens on, so nothing is ever fetched) and
// returns it with the two bodies.
func manifestsTree(t *testing.T) (dir string, bodies []string) {
	t.Helper()
	bodies = []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\ndata: {v: \"${HOME}\"}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\n",
	}
	dir = writeTree(t, map[string]string{
		"cluster.yaml": clusterYAML(),
		"remote.yaml": `apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: remote}
spec:
  layer: L2
  namespace: platform
  manifests:
    - url: https://127.0.0.1:1/one.yaml
      sha256: ` + cache.Sum([]byte(bodies[0])) + `
    - url: https://127.0.0.1:1/two.yaml
      sha256: ` + cache.Sum([]byte(bodies[1])) + `
`,
	})
	return dir, bodies
}

func TestManifestsAddAndFetch(t *testing.T) {
	dir, bodies := manifestsTree(t)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	t.Setenv(cache.EnvDir, cacheDir)
	files := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(files, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	// Offline, nothing cached: fetch fails for both pins, at their lines.
	code, stdout, _ := kcloud(t, "manifests", "fetch", dir)
	if code != exitFailed || len(regexp.MustCompile(`(?m)^.*remote\.yaml:(8|10):7: https://127\.0\.0\.1:1/(one|two)\.yaml: `).FindAllString(stdout, -1)) != 2 {
		t.Fatalf("fetch with nothing reachable: exit %d, want 1 naming both pins\n%s", code, stdout)
	}
	// vet reads the cache only: both are warnings, not errors.
	if code, stdout, _ := kcloud(t, "vet", dir); code != exitOK || strings.Count(stdout, "not in the manifest cache") != 2 {
		t.Errorf("vet without the manifests: exit %d, want 0 with two warnings\n%s", code, stdout)
	}

	// A file the tree does not pin is refused, and not stored.
	code, _, stderr := kcloud(t, "manifests", "add", "--specs", dir, write("other.yaml", bodies[0]+"# edited\n"))
	if code != exitFailed || !strings.Contains(stderr, "is not pinned by any url manifest") {
		t.Fatalf("add of an unpinned file: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(cacheDir); len(entries) != 0 {
		t.Fatalf("cache holds %d entries after a refused add", len(entries))
	}
	// Pinned files are stored under their sha256; with --manifest-cache
	// winning over the environment.
	flagDir := filepath.Join(t.TempDir(), "flag")
	code, stdout, stderr = kcloud(t, "manifests", "add", "--manifest-cache", flagDir, "--specs", dir,
		write("one.yaml", bodies[0]), write("two.yaml", bodies[1]))
	if code != exitOK || strings.Count(stdout, "added ") != 2 {
		t.Fatalf("add: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, b := range bodies {
		if _, err := os.Stat(filepath.Join(flagDir, cache.Sum([]byte(b)))); err != nil {
			t.Errorf("entry missing: %v", err)
		}
	}

	// Everything cached: fetch verifies without the network, and render
	// uses the bodies as published.
	t.Setenv(cache.EnvDir, flagDir)
	code, stdout, _ = kcloud(t, "manifests", "fetch", dir)
	if code != exitOK || strings.Count(stdout, "cached ") != 2 {
		t.Fatalf("fetch with everything cached: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = kcloud(t, "render", dir, "--layer", "L2")
	if code != exitOK || !strings.Contains(stdout, "v: ${HOME}") || !strings.Contains(stdout, "name: two") {
		t.Fatalf("render from the cache: exit %d\n%s%s", code, stdout, stderr)
	}

	// A corrupt entry is never used: offline (vet) it is named, online
	// (render) it is fetched again — here that fails, and so does render.
	one := filepath.Join(flagDir, cache.Sum([]byte(bodies[0])))
	if err := os.WriteFile(one, []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: planted}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := kcloud(t, "vet", dir); code != exitOK || !strings.Contains(stdout, "is corrupt") {
		t.Errorf("vet with a corrupt entry: exit %d, want a warning naming it\n%s", code, stdout)
	}
	code, stdout, stderr = kcloud(t, "render", dir)
	if code != exitFailed || !strings.Contains(stderr, "one.yaml: Get ") || strings.Contains(stdout, "planted") {
		t.Errorf("render with a corrupt entry: exit %d, want 1 (refetch failed) and nothing of it\n%s", code, stderr)
	}
	// …and fetch tries to fetch it again (nothing listens: it fails).
	if code, stdout, _ := kcloud(t, "manifests", "fetch", dir); code != exitFailed || !strings.Contains(stdout, "one.yaml: ") {
		t.Errorf("fetch with a corrupt entry: exit %d\n%s", code, stdout)
	}
}
