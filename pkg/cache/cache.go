package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// EnvDir names the environment variable that sets the cache directory when
// no --manifest-cache flag does.
const EnvDir = "KCLOUD_MANIFEST_CACHE"

// Dir is a manifest cache directory. Entries are public manifests, written
// atomically with mode 0644.
type Dir struct {
	Path string
}

// DefaultPath is where the cache lives when neither the flag nor
// KCLOUD_MANIFEST_CACHE says: kcloud/manifests under the user's cache
// directory (~/.cache on Linux).
func DefaultPath() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("manifest cache: no user cache directory (set --manifest-cache or %s): %w", EnvDir, err)
	}
	return filepath.Join(base, "kcloud", "manifests"), nil
}

// Resolve returns the cache directory: flag when set, else
// KCLOUD_MANIFEST_CACHE, else DefaultPath.
func Resolve(flag string, getenv func(string) string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := getenv(EnvDir); env != "" {
		return env, nil
	}
	return DefaultPath()
}

var hexSum = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Sum returns the lowercase sha256 hex of body, the name of its entry.
func Sum(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}

// CorruptError is returned for an entry whose content does not match its
// name; the entry is never used.
type CorruptError struct {
	Path string
	Got  string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("manifest cache: %s is corrupt (its content has sha256 %s); remove it or fetch it again", e.Path, e.Got)
}

// Get returns the body pinned by sum. ok is false when there is no entry;
// an entry whose content does not hash to sum is a *CorruptError.
func (d Dir) Get(sum string) (body []byte, ok bool, err error) {
	path, err := d.entry(sum)
	if err != nil {
		return nil, false, err
	}
	body, err = os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("manifest cache: %w", err)
	}
	if got := Sum(body); got != sum {
		return nil, false, &CorruptError{Path: path, Got: got}
	}
	return body, true, nil
}

// Put stores body under sum, which it must hash to. The write is atomic: a
// reader sees the old entry, no entry, or the whole new one.
func (d Dir) Put(sum string, body []byte) error {
	path, err := d.entry(sum)
	if err != nil {
		return err
	}
	if got := Sum(body); got != sum {
		return fmt.Errorf("manifest cache: content has sha256 %s, not %s", got, sum)
	}
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return fmt.Errorf("manifest cache: %w", err)
	}
	tmp, err := os.CreateTemp(d.Path, ".tmp-"+sum[:12]+"-*")
	if err != nil {
		return fmt.Errorf("manifest cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return fmt.Errorf("manifest cache: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("manifest cache: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("manifest cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("manifest cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("manifest cache: %w", err)
	}
	return nil
}

// entry is the file of sum; a sum that is not 64 lowercase hex digits
// never names a file (it could otherwise reach outside the directory).
func (d Dir) entry(sum string) (string, error) {
	if !hexSum.MatchString(sum) {
		return "", fmt.Errorf("manifest cache: %q is not a lowercase sha256 hex digest", sum)
	}
	if d.Path == "" {
		return "", errors.New("manifest cache: no directory")
	}
	return filepath.Join(d.Path, sum), nil
}
