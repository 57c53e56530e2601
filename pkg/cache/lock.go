package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"kcloud.dev/kcloud/pkg/render"
)

// LockFile is the name of a spec tree's chart lock file, in the tree's
// first directory. It is not YAML by name, so the spec loader skips it.
const LockFile = "charts.lock"

// lockHeader heads every lock file kcloud writes.
const lockHeader = `# The chart archives this spec tree uses, each pinned by its sha256.
# Written by kcloud when it first fetches a chart, checked on every use
# afterwards: a chart whose archive changed under the same version is an
# error. Commit it. (docs/charts.md)
`

// LockEntry pins one chart version to the sha256 of its archive.
type LockEntry struct {
	Repo    string `json:"repo,omitempty"`
	Chart   string `json:"chart"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

func (e LockEntry) ref() render.ChartRef {
	return render.ChartRef{Repo: e.Repo, Chart: e.Chart, Version: e.Version}
}

// Lock is a spec tree's chart lock file. Its methods are safe for
// concurrent use.
type Lock struct {
	// Path is the file; a lock read from a missing file is empty.
	Path string

	mu      sync.Mutex
	entries []LockEntry
}

type lockDoc struct {
	Charts []LockEntry `json:"charts"`
}

// ReadLock reads the lock file at path; a missing file is an empty lock.
// Entries must name a chart and version once, each with a lowercase sha256.
func ReadLock(path string) (*Lock, error) {
	l := &Lock{Path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chart lock: %w", err)
	}
	var doc lockDoc
	if err := yaml.UnmarshalStrict(b, &doc); err != nil {
		return nil, fmt.Errorf("chart lock %s: %w", path, err)
	}
	seen := map[render.ChartRef]bool{}
	for i, e := range doc.Charts {
		switch {
		case e.Chart == "" || e.Version == "":
			return nil, fmt.Errorf("chart lock %s: entry %d: chart and version are required", path, i+1)
		case !hexSum.MatchString(e.SHA256):
			return nil, fmt.Errorf("chart lock %s: %s: sha256 %q is not a lowercase sha256 hex digest", path, e.ref(), e.SHA256)
		case seen[e.ref()]:
			return nil, fmt.Errorf("chart lock %s: %s is pinned twice", path, e.ref())
		}
		seen[e.ref()] = true
	}
	l.entries = doc.Charts
	return l, nil
}

// Get returns the sha256 the lock pins ref to.
func (l *Lock) Get(ref render.ChartRef) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if e.ref() == ref {
			return e.SHA256, true
		}
	}
	return "", false
}

// Entries returns the lock's entries, sorted.
func (l *Lock) Entries() []LockEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Add pins ref to sum and writes the file (atomically). Pinning a ref
// again to another sum is an error: the lock never changes a pin.
func (l *Lock) Add(ref render.ChartRef, sum string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if e.ref() == ref && e.SHA256 != sum {
			return fmt.Errorf("chart lock %s: %s is pinned to sha256 %s, not %s", l.Path, ref, e.SHA256, sum)
		}
		if e.ref() == ref {
			return nil
		}
	}
	l.entries = append(l.entries, LockEntry{Repo: ref.Repo, Chart: ref.Chart, Version: ref.Version, SHA256: sum})
	slices.SortFunc(l.entries, func(a, b LockEntry) int {
		return strings.Compare(a.Repo+"\x00"+a.Chart+"\x00"+a.Version, b.Repo+"\x00"+b.Chart+"\x00"+b.Version)
	})
	return l.write()
}

// write replaces the file with the lock's entries.
func (l *Lock) write() error {
	b, err := yaml.Marshal(lockDoc{Charts: l.entries})
	if err != nil {
		return fmt.Errorf("chart lock: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(l.Path), ".charts.lock-*")
	if err != nil {
		return fmt.Errorf("chart lock: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.WriteString(lockHeader + string(b)); err != nil {
		tmp.Close()
		return fmt.Errorf("chart lock: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("chart lock: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("chart lock: %w", err)
	}
	if err := os.Rename(tmp.Name(), l.Path); err != nil {
		return fmt.Errorf("chart lock: %w", err)
	}
	return nil
}
