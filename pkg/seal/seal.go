package seal

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kcloud.dev/kcloud/pkg/change"
)

// format names how an object is digested and what a seal claims. Change
// it when kcloud changes what it sends for a rendered object: older seals
// then no longer match.
const format = "kcloud-seal/1"

// Entry is one object's seal: applying what kcloud sends for it (the
// digest Plan) to the object at State (its UID and resourceVersion)
// changes nothing.
type Entry struct {
	Plan, State string
}

// Seals are a stack's entries by object (Key).
type Seals map[string]Entry

// Key names an object in Seals.
func Key(r change.Ref) string {
	return r.GroupKind.Group + "/" + r.GroupKind.Kind + "/" + r.Namespace + "/" + r.Name
}

// Plan digests what kcloud sends for obj in stack — the object as JSON,
// the stack's name (its inventory, the owning annotation kcloud adds), the
// build of kcloud that sends it — and the types the server applies it
// with (ssa.Merger.Types: a CRD's schema may change), keyed with the
// memo's key (an object may hold secret values: unkeyed, its digest would
// let whoever reads the seal files test guesses of them). "" when the
// memo has no key or the types are not known.
func (m *Memo) Plan(stack string, obj *unstructured.Unstructured, types string) (string, error) {
	key := m.key()
	if key == nil || types == "" {
		return "", nil
	}
	js, err := json.Marshal(obj.Object)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", format, build, stack, types)
	h.Write(js)
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// build names the running binary's source (its VCS revision), so that a
// seal a differently built kcloud stored is not taken on trust.
var build = func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var b strings.Builder
	b.WriteString(info.Main.Version)
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
			b.WriteString(" " + s.Value)
		}
	}
	return b.String()
}()

// Of is the state of a live object a seal pins: its UID and
// resourceVersion, which any write to it changes.
func Of(o metav1.Object) string {
	return string(o.GetUID()) + "/" + o.GetResourceVersion()
}

// Memo keeps the seals of one cluster in a directory of the user's
// cache, one file per stack, and digests objects with a key kept apart
// from them.
type Memo struct {
	// Dir holds the seal files; created on the first Store.
	Dir string
	// Server is the API server's URL. A seal names objects by UID, so one
	// of another cluster behind the same URL never matches; the URL only
	// keeps clusters apart.
	Server string
	// KeyFile holds the key of the digests: 32 random bytes, made on first
	// use (0600). Not beside the seals: a cache directory is what CI
	// systems save and restore.
	KeyFile string

	keyOnce sync.Once
	keyVal  []byte
}

// New returns the memo of the cluster at server, in the user's cache and
// config directories (kcloud/seals, kcloud/seal.key); nil when they have
// none.
func New(server string) *Memo {
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	config, err := os.UserConfigDir()
	if err != nil {
		return nil
	}
	return &Memo{Dir: filepath.Join(cache, "kcloud", "seals"), Server: server, KeyFile: filepath.Join(config, "kcloud", "seal.key")}
}

// key reads, or makes, the memo's key; nil when it can have none (no seals
// then).
func (m *Memo) key() []byte {
	if m == nil || m.KeyFile == "" {
		return nil
	}
	m.keyOnce.Do(func() {
		if b, err := os.ReadFile(m.KeyFile); err == nil && len(b) == keySize {
			m.keyVal = b
			return
		}
		b := make([]byte, keySize)
		if _, err := rand.Read(b); err != nil || os.MkdirAll(filepath.Dir(m.KeyFile), 0o700) != nil {
			return
		}
		f, err := os.OpenFile(m.KeyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil { // another run made it first
			if b, err := os.ReadFile(m.KeyFile); err == nil && len(b) == keySize {
				m.keyVal = b
			}
			return
		}
		_, werr := f.Write(b)
		if cerr := f.Close(); werr == nil && cerr == nil {
			m.keyVal = b
		}
	})
	return m.keyVal
}

// keySize is the length of a memo's key.
const keySize = 32

// file is the seal file of stack on the memo's cluster.
func (m *Memo) file(stack string) string {
	sum := sha256.Sum256([]byte(m.Server + "\x00" + stack))
	return filepath.Join(m.Dir, hex.EncodeToString(sum[:]))
}

// Load returns the stack's seals; none when there are none or they cannot
// be read.
func (m *Memo) Load(stack string) Seals {
	if m == nil || m.Dir == "" {
		return nil
	}
	b, err := os.ReadFile(m.file(stack))
	if err != nil {
		return nil
	}
	out := Seals{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if key, plan, state, ok := fields(sc.Text()); ok {
			out[key] = Entry{Plan: plan, State: state}
		}
	}
	return out
}

func fields(line string) (key, plan, state string, ok bool) {
	plan, rest, ok1 := strings.Cut(line, "\t")
	state, key, ok2 := strings.Cut(rest, "\t")
	return key, plan, state, ok1 && ok2 && plan != "" && state != "" && key != ""
}

// Store replaces the stack's seals, atomically (0600, in a 0700
// directory); none removes them.
func (m *Memo) Store(stack string, s Seals) error {
	if m == nil || m.Dir == "" {
		return nil
	}
	path := m.file(stack)
	if len(s) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	var b bytes.Buffer
	for _, key := range slices.Sorted(maps.Keys(s)) {
		e := s[key]
		fmt.Fprintf(&b, "%s\t%s\t%s\n", e.Plan, e.State, key)
	}
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(m.Dir, ".seal-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
