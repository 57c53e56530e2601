package secret

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/logging"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
)

// KeyError says that no key at hand decrypts a file's data key: none is
// set, or the ones set are not among the file's recipients.
type KeyError struct{ Err error }

func (e *KeyError) Error() string {
	return "no key decrypts its data key: " + e.Err.Error()
}

func (e *KeyError) Unwrap() error { return e.Err }

// ErrIntegrity is returned for a file whose MAC does not match its
// contents: it was changed without sops.
var ErrIntegrity = errors.New("its MAC does not verify: the file was changed without sops (or is corrupt)")

// Decrypt decrypts a SOPS-encrypted YAML stream (every document, the
// format the sops CLI writes) and returns the plaintext YAML, without the
// sops metadata. It does what sops' decrypt package does, without the
// other file formats. A missing or wrong key is a *KeyError; a MAC that
// does not verify is ErrIntegrity.
//
// Upstream flow followed: getsops/sops v3.13.3, decrypt/decrypt.go
// (https://github.com/getsops/sops/blob/v3.13.3/decrypt/decrypt.go).
func Decrypt(src []byte) ([]byte, error) {
	quietOnce.Do(quiet)
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	tree, err := store.LoadEncryptedFile(src)
	if err != nil {
		return nil, fmt.Errorf("read sops metadata: %w", err)
	}
	key, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{keyservice.NewLocalClient()}, nil)
	if err != nil {
		return nil, &KeyError{Err: err}
	}
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(key, cipher)
	if err != nil {
		// A value whose authentication tag fails: changed by hand.
		return nil, fmt.Errorf("%w: %v", ErrIntegrity, err)
	}
	want, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return nil, fmt.Errorf("%w: the MAC itself: %v", ErrIntegrity, err)
	}
	if want != mac {
		return nil, ErrIntegrity
	}
	return store.EmitPlainFile(tree.Branches)
}

var quietOnce sync.Once

// quiet silences sops' own loggers: they write colored text straight to
// stderr, past kcloud's log format; what they say kcloud's errors say.
func quiet() {
	for _, l := range logging.Loggers {
		l.SetOutput(io.Discard)
	}
}
