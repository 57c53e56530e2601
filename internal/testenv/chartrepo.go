package testenv

import (
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// ChartRepo is a Helm chart repository as users reach one: index.yaml
// and chart archives over HTTPS, on 127.0.0.1. It serves the real chart
// archives of ../shared/upstream/charts (those that are there) and the
// charts a test adds; its index is written by Helm's own repo package.
type ChartRepo struct {
	srv *httptest.Server
	dir string
	mu  sync.Mutex
}

// UpstreamCharts is where the real chart archives are, beside the project
// (../shared/upstream/charts, whose README says how each was built).
func UpstreamCharts() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..", "..", "shared", "upstream", "charts")
}

// NewChartRepo starts a chart repository serving the upstream chart
// archives; it stops when the test ends. Without ../shared/upstream it
// serves only what the test adds, and records that in the test notes.
func NewChartRepo(t testing.TB) *ChartRepo {
	t.Helper()
	r := &ChartRepo{dir: t.TempDir()}
	r.srv = httptest.NewTLSServer(http.FileServer(http.Dir(r.dir)))
	t.Cleanup(r.srv.Close)
	archives, _ := filepath.Glob(filepath.Join(UpstreamCharts(), "*.tgz"))
	if len(archives) == 0 {
		Note(t, "the upstream chart archives are not here (../shared/upstream/charts): the chart repository serves only the test's own charts")
	}
	for _, a := range archives {
		if err := copyFile(a, filepath.Join(r.dir, filepath.Base(a))); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.reindex(); err != nil {
		t.Fatal(err)
	}
	return r
}

// URL is the repository's URL (https://127.0.0.1:PORT), what a spec's
// helm entry names as repo.
func (r *ChartRepo) URL() string { return r.srv.URL }

// Client is an HTTP client that trusts the repository's certificate.
func (r *ChartRepo) Client() *http.Client { return r.srv.Client() }

// CertPool holds the repository's certificate.
func (r *ChartRepo) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(r.srv.Certificate())
	return pool
}

// Archive is the path of a served archive (name-version.tgz).
func (r *ChartRepo) Archive(name, version string) string {
	return filepath.Join(r.dir, name+"-"+version+".tgz")
}

// AddChart packages a chart from files (paths relative to the chart's
// directory: Chart.yaml, values.yaml, templates/…, crds/…) with Helm's
// loader and chartutil.Save, serves it and returns its archive's path.
func (r *ChartRepo) AddChart(t testing.TB, files map[string]string) string {
	t.Helper()
	c, err := LoadChartFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	path, err := chartutil.Save(c, r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.reindex(); err != nil {
		t.Fatal(err)
	}
	return path
}

// LoadChartFiles loads a chart from files in memory, as Helm loads a
// directory.
func LoadChartFiles(files map[string]string) (*chart.Chart, error) {
	var bufs []*archive.BufferedFile
	for name, data := range files {
		bufs = append(bufs, &archive.BufferedFile{Name: name, Data: []byte(data)})
	}
	c, err := loader.LoadFiles(bufs)
	if err != nil {
		return nil, fmt.Errorf("load test chart: %w", err)
	}
	return c, nil
}

// reindex writes index.yaml for every archive served, with Helm's repo
// package (sha256 digests, URLs under the repository's).
func (r *ChartRepo) reindex() error {
	idx, err := repo.IndexDirectory(r.dir, r.URL())
	if err != nil {
		return fmt.Errorf("chart repository index: %w", err)
	}
	idx.SortEntries()
	return idx.WriteFile(filepath.Join(r.dir, "index.yaml"), 0o644)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Note logs what a test leaves out and, when KCLOUD_TEST_NOTES names a
// directory (make test sets it), records it there, so that make test
// prints it after the tests.
func Note(t testing.TB, note string) {
	t.Helper()
	t.Log(note)
	dir := os.Getenv("KCLOUD_TEST_NOTES")
	if dir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "notes.txt"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Logf("test note not recorded: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s: %s\n", t.Name(), strings.ReplaceAll(note, "\n", " "))
}
