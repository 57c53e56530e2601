package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"kcloud.dev/kcloud/pkg/spec"
)

// HTTPFetcher fetches pinned manifests over HTTPS only.
type HTTPFetcher struct {
	// Client defaults to one with a 30 s timeout that refuses redirects
	// away from HTTPS.
	Client *http.Client
}

var _ Fetcher = (*HTTPFetcher)(nil)

// Fetch returns the body of url, at most spec.MaxFileSize bytes; the caller
// checks it against sum.
func (f *HTTPFetcher) Fetch(ctx context.Context, url, _ string) ([]byte, error) {
	client := f.Client
	if client == nil {
		client = &http.Client{
			Timeout: 30 * time.Second,
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if req.URL.Scheme != "https" {
		return nil, fmt.Errorf("only https:// manifests are fetched")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, spec.MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(body) > spec.MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", spec.MaxFileSize>>20)
	}
	return body, nil
}

// fetchManifest fetches a pinned manifest and checks its sha256 before
// parsing a byte of it. Lenient (vet, offline) leaves out a manifest that
// cannot be had, with a warning instead of an error.
func fetchManifest(ctx context.Context, f Fetcher, m spec.Manifest, lenient bool) ([]spec.Doc, spec.Diagnostics) {
	var diags spec.Diagnostics
	body, err := f.Fetch(ctx, m.URL, m.SHA256)
	if err != nil && lenient {
		diags = append(diags, spec.Diagnostic{Pos: m.Pos, Severity: spec.SeverityWarning,
			Message: fmt.Sprintf("manifest %s: %v; its objects are not checked", m.URL, err)})
		return nil, diags
	}
	if err != nil {
		diags.Errorf(m.Pos, "fetch %s: %v", m.URL, err)
		return nil, diags
	}
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		diags.Errorf(m.Pos, "manifest %s: sha256 mismatch: the spec pins %s, the server sent %s", m.URL, m.SHA256, got)
		return nil, diags
	}
	return spec.ParseManifest(m.URL, body)
}
