package cache

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/render"
)

// TestChartsFromOCIRegistry: an oci:// chart (Bitnami's redis 20.6.1, which
// specs/ pulls from Bitnami's registry) is pulled from an OCI registry with
// Helm's registry client, byte for byte as pushed; the lock pins it on the
// first pull, and the same version pushed again with another archive is
// refused.
func TestChartsFromOCIRegistry(t *testing.T) {
	archive, err := os.ReadFile(filepath.Join(testenv.UpstreamCharts(), "redis-20.6.1.tgz"))
	if err != nil {
		testenv.Note(t, "left out: the upstream chart archives are not beside the project: "+err.Error())
		t.Skip("no chart archives")
	}
	reg := testenv.NewOCIRegistry(t)
	oci := reg.Push(t, "bitnamicharts/redis", archive)
	ref := render.ChartRef{Chart: oci, Version: "20.6.1"}
	lockPath := filepath.Join(t.TempDir(), LockFile)
	charts := func() *Charts {
		lock, err := ReadLock(lockPath)
		if err != nil {
			t.Fatal(err)
		}
		return &Charts{Dir: Dir{Path: filepath.Join(filepath.Dir(lockPath), "cache")}, Lock: lock, Next: &RemoteCharts{Client: reg.Client()}}
	}
	got, err := charts().Chart(context.Background(), ref)
	if err != nil || !bytes.Equal(got, archive) {
		t.Fatalf("pull %s: %d bytes (want the %d pushed), %v", oci, len(got), len(archive), err)
	}
	lock, err := ReadLock(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	if e := lock.Entries(); len(e) != 1 || e[0].Chart != oci || e[0].Repo != "" || e[0].SHA256 != Sum(archive) {
		t.Errorf("lock after the first pull: %+v", e)
	}

	// Republished under the same version: another archive (the same
	// chart, recompressed) at the same tag.
	other := recompressed(t, archive)
	reg.Push(t, "bitnamicharts/redis", other)
	c := charts()
	c.Dir = Dir{Path: t.TempDir()} // not from the cache: from the registry again
	_, err = c.Chart(context.Background(), ref)
	var rep *RepublishedError
	if !errors.As(err, &rep) || !strings.Contains(err.Error(), Sum(other)) {
		t.Fatalf("a republished chart: %v, want an error naming its sha256 %s", err, Sum(other))
	}
}

// recompressed is archive's tar stream gzipped again at another level:
// the same chart in an archive of another sha256.
func recompressed(t *testing.T, archive []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(zw, zr); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(out.Bytes(), archive) {
		t.Fatal("recompressing left the archive as it was")
	}
	return out.Bytes()
}
