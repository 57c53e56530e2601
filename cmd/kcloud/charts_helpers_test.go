package main

import (
	"os"
	"path"
	"path/filepath"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/cache"
	"kcloud.dev/kcloud/pkg/spec"
)

// sharedCharts is where the chart archives beside the project are, built
// from the charts' upstream sources (its README says how, and why their
// sha256 is not the published archives').
var sharedCharts = filepath.Join(moduleRoot, "..", "shared", "upstream", "charts")

// specsChartCache puts the archive of every chart tree uses into the
// cache c from sharedCharts, and writes dir's lock file pinning those
// archives (a copy of specs/ cannot use specs/'s own lock, which pins
// the published archives). A test without the archives is skipped, and
// says so.
func specsChartCache(t testing.TB, tree *spec.Tree, dir string, c cache.Dir) {
	t.Helper()
	lockPath := filepath.Join(dir, cache.LockFile)
	if err := os.Remove(lockPath); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	lock, err := cache.ReadLock(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	charts := &cache.Charts{Dir: c, Lock: lock}
	for _, p := range cache.ChartPins(tree) {
		file := filepath.Join(sharedCharts, path.Base(p.Ref.Chart)+"-"+p.Ref.Version+".tgz")
		body, err := os.ReadFile(file)
		if err != nil {
			testenv.Note(t, "left out: the chart archives of specs/ are not beside the project ("+err.Error()+")")
			t.Skip("no chart archives")
		}
		if _, err := charts.Add(p.Ref, body); err != nil {
			t.Fatal(err)
		}
	}
}

// testdataChartCache points KCLOUD_MANIFEST_CACHE at a fresh cache holding
// the charts written for the tests (testdata/charts), which the testdata
// trees' lock files pin.
func testdataChartCache(t testing.TB) {
	t.Helper()
	c := cache.Dir{Path: t.TempDir()}
	t.Setenv(cache.EnvDir, c.Path)
	files, err := filepath.Glob(filepath.Join(moduleRoot, "testdata", "charts", "*.tgz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata/charts: %v %v", files, err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Put(cache.Sum(body), body); err != nil {
			t.Fatal(err)
		}
	}
}

// sharedChartSource serves the charts tree uses from sharedCharts,
// pinned by a fresh lock file (not the tree's own): for renders of specs/
// itself. A test without the archives is skipped, and says so.
func sharedChartSource(t testing.TB, tree *spec.Tree) *cache.Charts {
	t.Helper()
	dir := t.TempDir()
	c := cache.Dir{Path: filepath.Join(dir, "cache")}
	specsChartCache(t, tree, dir, c)
	lock, err := cache.ReadLock(filepath.Join(dir, cache.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	return &cache.Charts{Dir: c, Lock: lock}
}
