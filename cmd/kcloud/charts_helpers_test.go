package main

import (
	"os"
	"path"
	"path/filepath"
	"testing"

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
			testNote(t, "left out: the chart archives of specs/ are not beside the project ("+err.Error()+")")
			t.Skip("no chart archives")
		}
		if _, err := charts.Add(p.Ref, body); err != nil {
			t.Fatal(err)
		}
	}
}
