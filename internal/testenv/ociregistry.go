package testenv

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
)

// OCIRegistry is an OCI registry as users reach one for charts: the
// distribution API over HTTPS on 127.0.0.1, served by go-containerregistry's
// in-memory registry (a Go module; no registry binary can be had offline).
// Charts are pushed to it with Helm's own registry client, as `helm push`
// does.
type OCIRegistry struct {
	srv *httptest.Server
}

// NewOCIRegistry starts an empty registry; it stops when the test ends.
func NewOCIRegistry(t testing.TB) *OCIRegistry {
	t.Helper()
	r := &OCIRegistry{srv: httptest.NewTLSServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))}
	t.Cleanup(r.srv.Close)
	return r
}

// Client is an HTTP client that trusts the registry's certificate.
func (r *OCIRegistry) Client() *http.Client { return r.srv.Client() }

// Push pushes a chart archive to repository (a path ending in the chart's
// name, such as charts/redis) at the chart's version, and returns the
// oci:// reference a spec's helm entry names as chart.
func (r *OCIRegistry) Push(t testing.TB, repository string, archive []byte) string {
	t.Helper()
	ch, err := loader.LoadArchive(strings.NewReader(string(archive)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := registry.NewClient(registry.ClientOptHTTPClient(r.Client()))
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.TrimPrefix(r.srv.URL, "https://") + "/" + repository
	if _, err := c.Push(archive, ref+":"+ch.Metadata.Version); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return "oci://" + ref
}
