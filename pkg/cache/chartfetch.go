package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/pkg/render"
)

// Limits of what a chart repository may send.
const (
	maxIndexSize   = 64 << 20
	maxArchiveSize = 32 << 20
)

// RemoteCharts fetches chart archives from HTTPS chart repositories
// (index.yaml, then the archive it lists) and OCI registries.
type RemoteCharts struct {
	// Client defaults to one with a minute's timeout that refuses
	// redirects away from HTTPS.
	Client *http.Client
}

var _ ChartFetcher = (*RemoteCharts)(nil)

func (f *RemoteCharts) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return &http.Client{
		Timeout: time.Minute,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" {
				return errors.New("redirect away from https refused")
			}
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

// FetchChart returns the archive of ref.
func (f *RemoteCharts) FetchChart(ctx context.Context, ref render.ChartRef) ([]byte, error) {
	if strings.HasPrefix(ref.Chart, "oci://") {
		return f.pullOCI(ref)
	}
	base, err := url.Parse(strings.TrimSuffix(ref.Repo, "/") + "/")
	if err != nil || base.Scheme != "https" {
		return nil, fmt.Errorf("chart repository %q: only https:// repositories are fetched", ref.Repo)
	}
	b, err := f.get(ctx, base.JoinPath("index.yaml"), maxIndexSize)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", ref.Repo, err)
	}
	var idx repo.IndexFile
	if err := yaml.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("chart repository %s: index.yaml: %w", ref.Repo, err)
	}
	var found *repo.ChartVersion
	for _, v := range idx.Entries[ref.Chart] {
		if v != nil && v.Metadata != nil && v.Version == ref.Version {
			found = v
			break
		}
	}
	if found == nil || len(found.URLs) == 0 {
		return nil, fmt.Errorf("chart repository %s: index.yaml lists no %s version %s", ref.Repo, ref.Chart, ref.Version)
	}
	u, err := base.Parse(found.URLs[0])
	if err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("chart repository %s: %s %s: archive URL %q is not https", ref.Repo, ref.Chart, ref.Version, found.URLs[0])
	}
	body, err := f.get(ctx, u, maxArchiveSize)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ref, err)
	}
	if d := strings.TrimPrefix(found.Digest, "sha256:"); d != "" && d != Sum(body) {
		return nil, fmt.Errorf("chart %s: the archive has sha256 %s, its repository's index.yaml says %s", ref, Sum(body), d)
	}
	return body, nil
}

// get reads u, at most limit bytes.
func (f *RemoteCharts) get(ctx context.Context, u *url.URL, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %s", u.Redacted(), resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d MiB", u.Redacted(), limit>>20)
	}
	return b, nil
}

// pullOCI pulls an oci:// chart at its version with Helm's registry
// client (anonymous, or the credentials of Helm's registry config).
func (f *RemoteCharts) pullOCI(ref render.ChartRef) ([]byte, error) {
	c, err := registry.NewClient(registry.ClientOptHTTPClient(f.client()))
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ref, err)
	}
	res, err := c.Pull(strings.TrimPrefix(ref.Chart, "oci://") + ":" + ref.Version)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ref, err)
	}
	if res.Chart == nil || len(res.Chart.Data) > maxArchiveSize {
		return nil, fmt.Errorf("chart %s: no chart archive, or one larger than %d MiB", ref, maxArchiveSize>>20)
	}
	return res.Chart.Data, nil
}
