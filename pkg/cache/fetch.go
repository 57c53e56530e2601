package cache

import (
	"context"
	"errors"
	"fmt"

	"kcloud.dev/kcloud/pkg/render"
)

// Fetcher serves pinned manifests from the cache and fetches the others
// through Next, storing what matches its pin. A nil Next is offline: a
// manifest not in the cache is an error that says how to fill it.
type Fetcher struct {
	Dir  Dir
	Next render.Fetcher
	// Stored, when set, is told about every body Next fetched that matched
	// its pin, with the error of storing it (nil when the cache holds it
	// now). A cache that cannot be written does not fail the fetch.
	Stored func(url, sum string, err error)
}

var _ render.Fetcher = (*Fetcher)(nil)

// ErrNotCached is returned offline for a manifest the cache does not hold.
var ErrNotCached = errors.New("not in the manifest cache")

// Fetch returns the body pinned by sum. A corrupt or unreadable entry is
// fetched again when Next is set, and is an error otherwise; it is never
// returned. A body
// from Next that does not match sum is returned unstored, for render to
// report the mismatch.
func (f *Fetcher) Fetch(ctx context.Context, url, sum string) ([]byte, error) {
	if _, err := f.Dir.entry(sum); err != nil {
		return nil, err
	}
	body, ok, err := f.Dir.Get(sum)
	switch {
	case ok:
		return body, nil
	case f.Next == nil && err != nil:
		return nil, err
	case f.Next == nil:
		return nil, fmt.Errorf("%w (%s): run 'kcloud manifests fetch' where the network is reachable, or 'kcloud manifests add FILE'", ErrNotCached, f.Dir.Path)
	}
	// Online, an entry that is missing, corrupt or unreadable is fetched.
	body, err = f.Next.Fetch(ctx, url, sum)
	if err != nil {
		return nil, err
	}
	if Sum(body) != sum {
		return body, nil
	}
	err = f.Dir.Put(sum, body)
	if f.Stored != nil {
		f.Stored(url, sum, err)
	}
	return body, nil
}
