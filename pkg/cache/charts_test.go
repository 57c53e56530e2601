package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/render"
)

// TestChartsLock: the first fetch of a chart from an HTTPS chart
// repository stores it and writes the lock; later uses are served from
// the cache, offline too; the same version republished with another
// archive is an error naming the lock.
func TestChartsLock(t *testing.T) {
	repo := testenv.NewChartRepo(t)
	if _, err := os.Stat(repo.Archive("external-dns", "1.21.1")); err != nil {
		t.Skipf("left out: no upstream chart archives: %v", err)
	}
	dir := t.TempDir()
	lockPath := filepath.Join(dir, LockFile)
	ref := render.ChartRef{Repo: repo.URL(), Chart: "external-dns", Version: "1.21.1"}
	want, err := os.ReadFile(repo.Archive("external-dns", "1.21.1"))
	if err != nil {
		t.Fatal(err)
	}
	sources := func(online bool) *Charts {
		lock, err := ReadLock(lockPath)
		if err != nil {
			t.Fatal(err)
		}
		c := &Charts{Dir: Dir{Path: filepath.Join(dir, "cache")}, Lock: lock}
		if online {
			c.Next = &RemoteCharts{Client: repo.Client()}
		}
		return c
	}
	if _, err := sources(false).Chart(context.Background(), ref); !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline, before any fetch: %v", err)
	}
	got, err := sources(true).Chart(context.Background(), ref)
	if err != nil || Sum(got) != Sum(want) {
		t.Fatalf("first fetch: sha256 %s, %v", Sum(got), err)
	}
	lock, err := ReadLock(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]LockEntry{{Repo: repo.URL(), Chart: "external-dns", Version: "1.21.1", SHA256: Sum(want)}}, lock.Entries()); diff != "" {
		t.Errorf("lock written on first fetch (-want +got):\n%s", diff)
	}
	if got, err := sources(false).Chart(context.Background(), ref); err != nil || Sum(got) != Sum(want) {
		t.Fatalf("offline, after the fetch: %v", err)
	}

	// Republished: the lock pins another archive for the version.
	b, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("f", 64)
	if err := os.WriteFile(lockPath, []byte(strings.ReplaceAll(string(b), Sum(want), other)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = sources(true).Chart(context.Background(), ref)
	var rep *RepublishedError
	if !errors.As(err, &rep) || !strings.Contains(err.Error(), lockPath) {
		t.Fatalf("republished chart: %v", err)
	}
}
