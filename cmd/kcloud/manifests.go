package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/spf13/cobra"
	chartloader "helm.sh/helm/v4/pkg/chart/v2/loader"

	"kcloud.dev/kcloud/pkg/cache"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// manifestCacheDir is the cache directory of this run: --manifest-cache,
// then $KCLOUD_MANIFEST_CACHE, then the user's cache directory.
func (g *globals) manifestCacheDir() (string, error) {
	return cache.Resolve(g.manifestCache, os.Getenv)
}

// manifestFetcher serves pinned URL manifests from the cache; online, it
// fetches the missing ones over HTTPS and stores them. Without a usable
// cache directory, online runs fetch every time and offline runs (vet)
// leave URL manifests out.
func (g *globals) manifestFetcher(online bool) render.Fetcher {
	var next render.Fetcher
	if online {
		next = &render.HTTPFetcher{}
	}
	dir, err := g.manifestCacheDir()
	if err != nil {
		g.log.Warn().Err(err).Msg("manifest cache disabled")
		return next
	}
	return &cache.Fetcher{Dir: cache.Dir{Path: dir}, Next: next, Stored: func(url, sum string, err error) {
		if err != nil {
			g.log.Warn().Err(err).Str("url", url).Msg("fetched manifest not cached")
			return
		}
		g.log.Debug().Str("url", url).Str("sha256", sum).Str("cache", dir).Msg("manifest cached")
	}}
}

// chartSource serves the charts of the spec tree in dirs from the cache,
// pinned by the tree's lock file (charts.lock in its first directory);
// online, it fetches the missing ones and pins new ones in the lock.
func (g *globals) chartSource(dirs []string, online bool) (*cache.Charts, error) {
	lock, err := cache.ReadLock(filepath.Join(dirs[0], cache.LockFile))
	if err != nil {
		return nil, err
	}
	dir, err := g.manifestCacheDir()
	if err != nil {
		return nil, err
	}
	c := &cache.Charts{Dir: cache.Dir{Path: dir}, Lock: lock}
	if online {
		c.Next = &cache.RemoteCharts{}
		c.Stored = func(ref render.ChartRef, sum string, err error) {
			if err != nil {
				g.log.Warn().Err(err).Str("chart", ref.String()).Msg("fetched chart not cached")
				return
			}
			g.log.Debug().Str("chart", ref.String()).Str("sha256", sum).Str("cache", dir).Msg("chart cached")
		}
	}
	return c, nil
}

func newManifestsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manifests",
		Short: "Fill the cache of pinned URL manifests (for offline and air-gapped runs)",
		Long: `Pinned URL manifests (manifests: - url: …, sha256: …) are kept in a
content-addressed cache: one file per body, named by its sha256, checked on
every read. Any render, diff or apply that fetches a manifest stores it;
these commands fill the cache ahead of time. The cache is --manifest-cache,
else $KCLOUD_MANIFEST_CACHE, else kcloud/manifests under the user's cache
directory.`,
		Example: `  kcloud manifests fetch specs/
  kcloud manifests add --specs specs/ vendor/cert-manager.yaml`,
	}
	cmd.AddCommand(newManifestsFetchCmd(g), newManifestsAddCmd(g))
	return cmd
}

func newManifestsFetchCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "fetch [DIR...]",
		Short: "Fetch every URL manifest the spec tree pins into the cache",
		Long: `fetch reads the spec tree (default specs/) and makes sure the cache holds
every pinned URL manifest: entries already there are verified, missing or
corrupt ones are fetched over HTTPS and checked against their sha256.
Copy the cache directory to an air-gapped CI runner afterwards. Exit 0 when
the cache holds every pin, 1 otherwise.`,
		Example: `  kcloud manifests fetch specs/
  KCLOUD_MANIFEST_CACHE=.cache/manifests kcloud manifests fetch specs/`,
		ValidArgsFunction: completeDirs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := load(cmd.Context(), g, specDirs(args), loadOptions{})
			if err != nil {
				return err
			}
			dir, err := g.manifestCacheDir()
			if err != nil {
				return withCode(exitUsage, err)
			}
			fetcher := &cache.Fetcher{Dir: cache.Dir{Path: dir}, Next: &render.HTTPFetcher{}}
			failed := fetchPins(cmd.Context(), g.stdout, fetcher, cache.Pins(s.tree))
			charts, err := g.chartSource(specDirs(args), true)
			if err != nil {
				return withCode(exitUsage, err)
			}
			failed += fetchCharts(cmd.Context(), g.stdout, charts, cache.ChartPins(s.tree))
			if failed > 0 {
				return withCode(exitFailed, fmt.Errorf("manifests fetch: %d pinned manifest(s) or chart(s) not cached", failed))
			}
			return nil
		},
	}
}

// fetchPins fills the cache with pins and reports each; it returns how
// many failed.
func fetchPins(ctx context.Context, w io.Writer, f *cache.Fetcher, pins []cache.Pin) (failed int) {
	for _, p := range pins {
		_, had, _ := f.Dir.Get(p.SHA256)
		body, err := f.Fetch(ctx, p.URL, p.SHA256)
		if err == nil && cache.Sum(body) != p.SHA256 {
			err = fmt.Errorf("sha256 mismatch: the spec pins %s, the server sent %s", p.SHA256, cache.Sum(body))
		}
		if err == nil {
			if _, ok, _ := f.Dir.Get(p.SHA256); !ok {
				err = fmt.Errorf("could not be stored in %s", f.Dir.Path)
			}
		}
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(w, "%s: %s: %v\n", p.Pos, p.URL, err)
		case had:
			fmt.Fprintf(w, "cached   %s  %s\n", p.SHA256, p.URL)
		default:
			fmt.Fprintf(w, "fetched  %s  %s\n", p.SHA256, p.URL)
		}
	}
	return failed
}

// fetchCharts fills the cache and the lock with the charts of pins and
// reports each; it returns how many failed.
func fetchCharts(ctx context.Context, w io.Writer, c *cache.Charts, pins []cache.ChartPin) (failed int) {
	for _, p := range pins {
		pinned, had := c.Lock.Get(p.Ref)
		if had {
			_, had, _ = c.Dir.Get(pinned)
		}
		body, err := c.Chart(ctx, p.Ref)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(w, "%s: chart %s: %v\n", p.Pos, p.Ref, err)
		case had:
			fmt.Fprintf(w, "cached   %s  %s\n", cache.Sum(body), p.Ref)
		default:
			fmt.Fprintf(w, "fetched  %s  %s\n", cache.Sum(body), p.Ref)
		}
	}
	return failed
}

func newManifestsAddCmd(g *globals) *cobra.Command {
	var flags struct{ specs []string }
	cmd := &cobra.Command{
		Use:   "add FILE...",
		Short: "Put files you already have into the cache, if the spec tree pins them",
		Long: `add stores each FILE in the cache when its sha256 is pinned by a URL
manifest of the spec tree (--specs, default specs/), so a manifest brought
in by hand (an air-gapped runner, a vendored copy kept elsewhere) is used
exactly as if it had been fetched. A file no manifest pins is refused.
Exit 0 when every file was added, 1 otherwise.`,
		Example: `  kcloud manifests add --specs specs/ vendor/cert-manager.yaml`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := load(cmd.Context(), g, specDirs(flags.specs), loadOptions{})
			if err != nil {
				return err
			}
			dir, err := g.manifestCacheDir()
			if err != nil {
				return withCode(exitUsage, err)
			}
			byPin := map[string][]cache.Pin{}
			for _, p := range cache.Pins(s.tree) {
				byPin[p.SHA256] = append(byPin[p.SHA256], p)
			}
			charts, err := g.chartSource(specDirs(flags.specs), false)
			if err != nil {
				return withCode(exitUsage, err)
			}
			chartPins := cache.ChartPins(s.tree)
			var failed int
			for _, file := range args {
				err := addManifest(g.stdout, cache.Dir{Path: dir}, file, byPin)
				if errors.Is(err, errNotPinned) {
					err = addChart(g.stdout, charts, file, chartPins)
				}
				if err != nil {
					failed++
					fmt.Fprintf(g.stderr, "kcloud: %v\n", err)
				}
			}
			if failed > 0 {
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&flags.specs, "specs", nil, "spec directories whose pins the files must match (default specs/)")
	return cmd
}

// addManifest stores file in d if one of pins names its sha256.
func addManifest(w io.Writer, d cache.Dir, file string, pins map[string][]cache.Pin) error {
	body, err := readLimited(file, spec.MaxFileSize)
	if err != nil {
		return fmt.Errorf("manifests add %s: %w", file, err)
	}
	sum := cache.Sum(body)
	ps := pins[sum]
	if len(ps) == 0 {
		return fmt.Errorf("manifests add %s: sha256 %s is not pinned by any url manifest of the spec tree: %w", file, sum, errNotPinned)
	}
	if err := d.Put(sum, body); err != nil {
		return fmt.Errorf("manifests add %s: %w", file, err)
	}
	for _, p := range ps {
		fmt.Fprintf(w, "added    %s  %s\n", sum, p.URL)
	}
	return nil
}

// errNotPinned: a file no url manifest pins (it may be a chart archive).
var errNotPinned = errors.New("not pinned")

// addChart stores a chart archive in the cache and pins it in the lock
// when a helm entry of the spec tree names its chart and version; an
// archive other than the one the lock pins is refused.
func addChart(w io.Writer, c *cache.Charts, file string, pins []cache.ChartPin) error {
	body, err := readLimited(file, spec.MaxFileSize)
	if err != nil {
		return fmt.Errorf("manifests add %s: %w", file, err)
	}
	ch, err := chartloader.LoadArchive(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("manifests add %s: sha256 %s is not pinned by any url manifest of the spec tree, and it is no chart archive: %w", file, cache.Sum(body), err)
	}
	added := 0
	for _, p := range pins {
		if path.Base(p.Ref.Chart) != ch.Name() || p.Ref.Version != ch.Metadata.Version {
			continue
		}
		sum, err := c.Add(p.Ref, body)
		if err != nil {
			return fmt.Errorf("manifests add %s: chart %s: %w", file, p.Ref, err)
		}
		added++
		fmt.Fprintf(w, "added    %s  %s\n", sum, p.Ref)
	}
	if added == 0 {
		return fmt.Errorf("manifests add %s: no helm entry of the spec tree uses chart %s version %s", file, ch.Name(), ch.Metadata.Version)
	}
	return nil
}

// readLimited reads at most limit bytes of file; a larger file is an error.
func readLimited(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("larger than %d MiB", limit>>20)
	}
	return body, nil
}
