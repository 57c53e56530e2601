package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/cache"
	"kcloud.dev/kcloud/pkg/spec"
)

// upstreamFiles are the URL manifests of specs/ that ../shared/upstream
// holds outside its manifests/ folder (sharedManifest), as upstream
// published them (its README names each file's URL), by sha256: the
// Cluster's schema source, Traefik's Middleware CRD.
var upstreamFiles = map[string]string{
	// https://raw.githubusercontent.com/traefik/traefik-helm-chart/v41.3.0/traefik/crds/traefik.io_middlewares.yaml
	"2d2e097725637a7fc372fab3492db2cb94860e7d463424bd6b341f6a2a81c685": "crds/cluster/traefik.io_middlewares.yaml",
}

// upstreamFile reads a pinned manifest from ../shared/upstream, checked
// against its pin.
func upstreamFile(sum string) ([]byte, bool) {
	rel, ok := upstreamFiles[sum]
	if !ok {
		return nil, false
	}
	body, err := os.ReadFile(filepath.Join(moduleRoot, "..", "shared", "upstream", filepath.FromSlash(rel)))
	if err != nil || cache.Sum(body) != sum {
		return nil, false
	}
	return body, true
}

// developerCache is the manifest cache of whoever runs the tests, as it was
// before any test set KCLOUD_MANIFEST_CACHE: read from, never written.
var developerCache = func() string {
	dir, err := cache.Resolve("", os.Getenv)
	if err != nil {
		return ""
	}
	return dir
}()

// sharedManifests is where the upstream files beside the project keep
// pinned manifests as upstream ships them (CI and development machines
// have ../shared/upstream; a user's clone may not).
var sharedManifests = filepath.Join(moduleRoot, "..", "shared", "upstream", "manifests")

// sharedManifest returns the file of sharedManifests whose sha256 is sum.
func sharedManifest(sum string) ([]byte, bool) {
	entries, _ := os.ReadDir(sharedManifests)
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(sharedManifests, e.Name()))
		if err == nil && cache.Sum(body) == sum {
			return body, true
		}
	}
	return nil, false
}

// specsManifestCache points KCLOUD_MANIFEST_CACHE at a fresh cache for the
// test holding every URL manifest dir pins, from offline sources only: the
// developer's own cache, then the upstream files beside the project; nothing
// is downloaded (tests never reach the internet, and the one manifest
// specs/ pins from GitHub, kubero-operator's, is not a Go module, so the Go
// module proxy is no source for it). It returns why a pin could not be had ("" when all were).
func specsManifestCache(t testing.TB, dir string) (missing string) {
	t.Helper()
	tree, diags, err := spec.Load(context.Background(), []string{dir})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load %s: %v %v", dir, err, diags)
	}
	c := cache.Dir{Path: t.TempDir()}
	t.Setenv(cache.EnvDir, c.Path)
	var why []string
	for _, p := range cache.Pins(tree) {
		body, ok, _ := cache.Dir{Path: developerCache}.Get(p.SHA256)
		if !ok {
			body, ok = sharedManifest(p.SHA256)
		}
		if !ok {
			body, ok = upstreamFile(p.SHA256)
		}
		if !ok {
			why = append(why, fmt.Sprintf("%s is not in the manifest cache (%s) nor in %s", p.URL, developerCache, sharedManifests))
			continue
		}
		if err := c.Put(p.SHA256, body); err != nil {
			t.Fatal(err)
		}
	}
	specsChartCache(t, tree, dir, c)
	return strings.Join(why, "; ")
}

// specsEnv sets the ${NAME}s specs/ reads to stand-in values.
func specsEnv(t testing.TB) {
	for k, v := range map[string]string{
		"VPS_HOST": "203.0.113.10", // the platform's secrets come from specs/, decrypted with hack/demo.agekey
	} {
		t.Setenv(k, v)
	}
}

// kuberoFiles are the components of specs/ that need the pinned Kubero
// operator manifest.
var kuberoFiles = []string{"l2-platform/kubero-operator.yaml", "l2-platform/kubero.yaml", "l2-platform/secrets/kubero-secrets.sops.yaml"}

// specsCopy copies specs/ into a temporary directory (named specs) with its
// environment and manifest cache set. When the Kubero operator manifest cannot be had
// offline, the copy leaves out the two Kubero components and kubero says
// why (the rest of the platform is still tested); otherwise kubero is "".
func specsCopy(t testing.TB) (dir, kubero string) {
	t.Helper()
	specsEnv(t)
	dir = filepath.Join(t.TempDir(), "specs")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(moduleRoot, "specs"))); err != nil {
		t.Fatal(err)
	}
	missing := specsManifestCache(t, dir)
	if missing == "" {
		return dir, ""
	}
	if strings.Contains(missing, "traefik.io_middlewares.yaml") {
		// Without the Middleware CRD (a schema source only), vet warns
		// and render fails to fetch it: the copy drops the schema source.
		cl := filepath.Join(dir, "cluster.yaml")
		b, err := os.ReadFile(cl)
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(string(b), "  # The schema vet checks Traefik Middlewares against")
		if err := os.WriteFile(cl, []byte(head), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("specs/ without its Traefik Middleware schema: %s", missing)
		if missing = specsManifestCache(t, dir); missing == "" {
			return dir, ""
		}
	}
	for _, f := range kuberoFiles {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if left := specsManifestCache(t, dir); left != "" {
		t.Fatalf("specs/ without Kubero still needs: %s", left)
	}
	testenv.Note(t, "specs/ without the Kubero components: "+missing)
	return dir, missing
}
