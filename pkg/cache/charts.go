package cache

import (
	"context"
	"fmt"

	"kcloud.dev/kcloud/pkg/render"
)

// ChartFetcher fetches a chart archive from its repository or registry.
type ChartFetcher interface {
	FetchChart(ctx context.Context, ref render.ChartRef) ([]byte, error)
}

// Charts serves chart archives from the cache, pinned by the spec tree's
// lock file: a locked chart is read by its sha256 (and fetched through
// Next when missing, checked against the pin); an unlocked one is fetched,
// stored and pinned. A nil Next is offline: what the cache does not hold
// is an error that says how to fill it.
type Charts struct {
	Dir  Dir
	Lock *Lock
	Next ChartFetcher
	// Stored, when set, is told about every archive Next fetched, with the
	// error of storing it (nil when the cache holds it now).
	Stored func(ref render.ChartRef, sum string, err error)
}

var _ render.ChartSource = (*Charts)(nil)

// RepublishedError is a chart whose archive is not the one the lock file
// pins for its version: a chart republished under an old version, or a
// tampered copy.
type RepublishedError struct {
	Ref    render.ChartRef
	Lock   string
	Pinned string
	Got    string
}

func (e *RepublishedError) Error() string {
	return fmt.Sprintf("the archive served has sha256 %s, but %s pins this version to %s: the chart was republished under the same version, or the copy is not the one pinned; check what changed, then remove its entry from %s to accept it",
		e.Got, e.Lock, e.Pinned, e.Lock)
}

// Chart returns the archive of ref.
func (c *Charts) Chart(ctx context.Context, ref render.ChartRef) ([]byte, error) {
	pinned, locked := c.Lock.Get(ref)
	if locked {
		body, ok, err := c.Dir.Get(pinned)
		switch {
		case ok:
			return body, nil
		case c.Next == nil && err != nil:
			return nil, err
		case c.Next == nil:
			return nil, fmt.Errorf("%w (%s, sha256 %s): run 'kcloud manifests fetch' where the network is reachable, or 'kcloud manifests add ARCHIVE'", ErrNotCached, c.Dir.Path, pinned)
		}
	} else if c.Next == nil {
		return nil, fmt.Errorf("%w and not in the lock file %s: run 'kcloud manifests fetch' where the network is reachable, or 'kcloud manifests add --chart ARCHIVE'", ErrNotCached, c.Lock.Path)
	}
	body, err := c.Next.FetchChart(ctx, ref)
	if err != nil {
		return nil, err
	}
	sum := Sum(body)
	if locked && sum != pinned {
		return nil, &RepublishedError{Ref: ref, Lock: c.Lock.Path, Pinned: pinned, Got: sum}
	}
	err = c.Dir.Put(sum, body)
	if c.Stored != nil {
		c.Stored(ref, sum, err)
	}
	if !locked {
		if err := c.Lock.Add(ref, sum); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// Add stores an archive the caller already has (manifests add) for ref:
// it must match the lock's pin when there is one; otherwise it is pinned.
func (c *Charts) Add(ref render.ChartRef, body []byte) (string, error) {
	sum := Sum(body)
	if pinned, ok := c.Lock.Get(ref); ok && pinned != sum {
		return "", &RepublishedError{Ref: ref, Lock: c.Lock.Path, Pinned: pinned, Got: sum}
	}
	if err := c.Dir.Put(sum, body); err != nil {
		return "", err
	}
	return sum, c.Lock.Add(ref, sum)
}
